"""edgeagent.export"""
