"""edgeagent: a small SmolLM model as an offline assistant that chats, reasons and calls tools."""

__version__ = "0.1.0"
