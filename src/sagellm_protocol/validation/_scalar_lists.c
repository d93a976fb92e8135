/* Exact-type checks over lists of scalars, for the compiled checkers (validation/_compile.py).
 *
 * A list of 128 token ids costs the pure-Python checker about 18 ns an item
 * (countOf(map(type, items), int)); this loop costs about 2. The checks answer the same
 * questions as the pure-Python expressions they replace, and the compiler falls back to those
 * when this module is not built or SAGELLM_PROTOCOL_PURE_PYTHON is set.
 *
 * No Python code runs inside the loops (only type and value tests), so a list cannot change
 * under them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

typedef int (*item_test)(PyObject *item, PyObject *cls);

static int
is_exactly(PyObject *item, PyObject *cls)
{
    return Py_IS_TYPE(item, (PyTypeObject *)cls);
}

static int
is_finite_number(PyObject *item, PyObject *unused)
{
    (void)unused;
    if (PyFloat_CheckExact(item)) {
        return isfinite(PyFloat_AS_DOUBLE(item));
    }
    return PyLong_CheckExact(item);
}

/* 1 if test holds for every item of the iterable, 0 if not, -1 with an exception set. */
static int
every_item(PyObject *items, PyObject *cls, item_test test)
{
    if (PyList_CheckExact(items) || PyTuple_CheckExact(items)) {
        PyObject **item = PySequence_Fast_ITEMS(items);
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(items); i++) {
            if (!test(item[i], cls)) {
                return 0;
            }
        }
        return 1;
    }
    if (PyDict_CheckExact(items)) {
        Py_ssize_t position = 0;
        PyObject *key;
        while (PyDict_Next(items, &position, &key, NULL)) {
            if (!test(key, cls)) {
                return 0;
            }
        }
        return 1;
    }
    PyObject *iterator = PyObject_GetIter(items);
    if (iterator == NULL) {
        return -1;
    }
    PyObject *item;
    int result = 1;
    while (result && (item = PyIter_Next(iterator)) != NULL) {
        result = test(item, cls);
        Py_DECREF(item);
    }
    Py_DECREF(iterator);
    return PyErr_Occurred() ? -1 : result;
}

static PyObject *
answer(int result)
{
    if (result < 0) {
        return NULL;
    }
    return PyBool_FromLong(result);
}

static PyObject *
all_of_type(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyType_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "all_of_type(items, cls) takes an iterable and a type");
        return NULL;
    }
    return answer(every_item(args[0], args[1], is_exactly));
}

static PyObject *
all_finite_numbers(PyObject *module, PyObject *items)
{
    (void)module;
    return answer(every_item(items, NULL, is_finite_number));
}

PyDoc_STRVAR(all_of_type_doc,
"all_of_type(items, cls, /)\n--\n\n"
"Whether the type of every item (every key, for a dict) is exactly cls, not a subclass.");

PyDoc_STRVAR(all_finite_numbers_doc,
"all_finite_numbers(items, /)\n--\n\n"
"Whether every item is an exact int or an exact float that is neither NaN nor infinite.");

static PyMethodDef methods[] = {
    {"all_of_type", (PyCFunction)(void (*)(void))all_of_type, METH_FASTCALL, all_of_type_doc},
    {"all_finite_numbers", all_finite_numbers, METH_O, all_finite_numbers_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef scalar_lists_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sagellm_protocol.validation._scalar_lists",
    .m_doc = "Exact-type checks over lists of scalars, for the compiled checkers.",
    .m_size = 0,
    .m_methods = methods,
    .m_slots = slots,
};

PyMODINIT_FUNC
PyInit__scalar_lists(void)
{
    return PyModuleDef_Init(&scalar_lists_module);
}
