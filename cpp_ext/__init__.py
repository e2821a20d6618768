"""edgeagent.cpp_ext"""
