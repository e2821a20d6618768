// The only file that knows about Python: nanobind bindings of cpp_ext/scaffold.hpp.
#include <nanobind/nanobind.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "scaffold.hpp"

namespace nb = nanobind;
using namespace edgeagent;

NB_MODULE(_scaffold, m) {
  m.doc() = "The scaffold compiler (C++). Use edgeagent.scaffold.compile_schema, not this module.";
  nb::exception<edgeagent::SchemaError>(m, "SchemaError", PyExc_ValueError);
  nb::exception<edgeagent::ArgumentError>(m, "ArgumentError", PyExc_ValueError);

  nb::class_<Vocab>(m, "Vocab")
      .def("__init__",
           [](Vocab* self, const std::vector<nb::bytes>& token_bytes) {
             std::vector<std::string> b;
             b.reserve(token_bytes.size());
             for (auto& t : token_bytes) b.emplace_back(t.c_str(), t.size());
             new (self) Vocab(std::move(b));
           })
      .def_prop_ro("size", &Vocab::size)
      .def("class_mask", [](const Vocab& v, const std::string& kind) {
        std::string s = v.class_mask(kind);
        return nb::bytes(s.data(), s.size());
      });

  nb::class_<Scaffold>(m, "Scaffold")
      .def(nb::init<const std::string&, const std::map<std::string, int64_t>&, const std::map<std::string, int64_t>&,
                    int64_t, std::shared_ptr<const Vocab>, const TokenizeFn&>(),
           nb::arg("schema_text"), nb::arg("budgets"), nb::arg("pointer_budgets"), nb::arg("max_len"),
           nb::arg("vocab"), nb::arg("tokenize_literals"))
      .def("template", &Scaffold::template_ids)
      .def("slots",
           [](const Scaffold& s) {
             nb::list out;
             for (auto& x : s.slots())
               out.append(nb::make_tuple(x.pointer, x.schema_pointer, x.kind, x.start, x.budget, x.required,
                                         x.choices, x.default_text));
             return out;
           })
      .def("encode", &Scaffold::encode, nb::arg("args_text"), nb::arg("tokenize"))
      .def("decode", &Scaffold::decode, nb::arg("ids"));
}
