"""edgeagent.train"""
