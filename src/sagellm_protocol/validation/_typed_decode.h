/* validate_json()'s typed decoder (_typed_decode.c), built into the _scalar_lists module. */
#ifndef SAGELLM_PROTOCOL_TYPED_DECODE_H
#define SAGELLM_PROTOCOL_TYPED_DECODE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *typed_program(PyObject *module, PyObject *spec);

/* The UTF-8 text of data, bytes or a str (caller names the function for a TypeError); -1 with
 * an exception set (a UnicodeError for a str with a lone surrogate). */
int json_text(PyObject *data, const char *caller, const char **text, Py_ssize_t *size);
PyObject *typed_decode(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

PyDoc_STRVAR(typed_program_doc,
"typed_program(spec, /)\n--\n\n"
"The decoding program of spec, a type described in nested tuples (see\n"
"validation/_typed_json.py, decoder_spec), for typed_decode().");

PyDoc_STRVAR(typed_decode_doc,
"typed_decode(program, data, max_depth, /)\n--\n\n"
"The value of the JSON text data (bytes or str) if every part of it is what program says, with\n"
"no key undeclared, missing or given twice, nested at most max_depth levels; else\n"
"NotImplemented: the untyped parse then decides.");

#endif
