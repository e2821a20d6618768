#include <nanobind/nanobind.h>
int edgeagent_probe();
NB_MODULE(_scaffold, m) { m.def("probe", &edgeagent_probe); }
