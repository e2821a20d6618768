int edgeagent_probe() { return 1; }
