"""edgeagent.quant"""
