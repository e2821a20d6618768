"""edgeagent.runtime"""
