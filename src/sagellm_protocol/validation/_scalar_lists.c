/* Exact-type checks over lists of scalars, for the compiled checkers (validation/_compile.py).
 *
 * A list of 128 token ids costs the pure-Python checker about 18 ns an item
 * (countOf(map(type, items), int)); this loop costs about 2. The checks answer the same
 * questions as the pure-Python expressions they replace (a property test holds them to it), and
 * the compiler falls back to those when this module is not built, cannot be loaded, or
 * SAGELLM_PROTOCOL_PURE_PYTHON is set.
 *
 * Two builds, chosen by setup.py:
 *
 * - Interpreters with a GIL: the limited API of 3.11 (Py_LIMITED_API), one abi3 module for
 *   3.11 and every later version. No Python code runs inside the loops (only type and value
 *   tests, and PyLong_AsDouble on exact ints), so while this thread holds the GIL no other
 *   thread can change the container under them.
 * - Free-threaded interpreters (Py_GIL_DISABLED): the limited API does not cover them before
 *   abi3t, so the module is built for that one version. Another thread may resize a list or a
 *   dict while the loop reads it, so the loops over lists and dicts run inside the container's
 *   critical section (its per-object lock), which the free-threaded list and dict methods take
 *   too; tuples are immutable. The module declares Py_MOD_GIL_NOT_USED, so loading it does not
 *   switch the GIL back on.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

#if defined(Py_LIMITED_API)
/* Bounds-checked calls: the item macros read the object layout, which abi3 does not fix. */
#  define LIST_ITEM(list, i) PyList_GetItem((list), (i))
#  define TUPLE_ITEM(tuple, i) PyTuple_GetItem((tuple), (i))
#  define LIST_SIZE(list) PyList_Size(list)
#  define TUPLE_SIZE(tuple) PyTuple_Size(tuple)
#else
#  define LIST_ITEM(list, i) PyList_GET_ITEM((list), (i))
#  define TUPLE_ITEM(tuple, i) PyTuple_GET_ITEM((tuple), (i))
#  define LIST_SIZE(list) PyList_GET_SIZE(list)
#  define TUPLE_SIZE(tuple) PyTuple_GET_SIZE(tuple)
#endif

#if !defined(Py_LIMITED_API) && PY_VERSION_HEX >= 0x030D0000
/* No-ops where there is a GIL; the object's lock on a free-threaded interpreter. */
#  define BEGIN_LOCKED(object) Py_BEGIN_CRITICAL_SECTION(object)
#  define END_LOCKED() Py_END_CRITICAL_SECTION()
#else
#  define BEGIN_LOCKED(object) {
#  define END_LOCKED() }
#endif

typedef int (*item_test)(PyObject *item, PyObject *cls);

static int
is_exactly(PyObject *item, PyObject *cls)
{
    return Py_IS_TYPE(item, (PyTypeObject *)cls);
}

/* An exact float that is neither NaN nor infinite, or an exact int a double holds (float(item)
 * would not overflow: |item| below 2**1024, after rounding), as math.isfinite(item) says. */
static int
is_finite_number(PyObject *item, PyObject *unused)
{
    (void)unused;
    if (PyFloat_CheckExact(item)) {
        return isfinite(PyFloat_AsDouble(item));
    }
    if (!PyLong_CheckExact(item)) {
        return 0;
    }
    if (PyLong_AsDouble(item) == -1.0 && PyErr_Occurred()) {
        PyErr_Clear(); /* OverflowError: beyond any double */
        return 0;
    }
    return 1;
}

/* An exact str that is Unicode text, which UTF-8 encodes: no lone surrogate, as the precise
 * pass and validate_json require of keys. For an ASCII str (nearly every key) the answer is its
 * own buffer, no copy; for another the interpreter keeps the encoding on the str, a copy the size
 * of the key that json.dumps of the value would make anyway. */
static int
is_text(PyObject *item, PyObject *unused)
{
    (void)unused;
    Py_ssize_t size;
    if (!PyUnicode_CheckExact(item)) {
        return 0;
    }
    if (PyUnicode_AsUTF8AndSize(item, &size) == NULL) {
        PyErr_Clear(); /* UnicodeEncodeError: a lone surrogate */
        return 0;
    }
    return 1;
}

/* 1 if test holds for every item of the iterable, 0 if not, -1 with an exception set. */
static int
every_item(PyObject *items, PyObject *cls, item_test test)
{
    int result = 1;
    if (PyList_CheckExact(items)) {
        BEGIN_LOCKED(items)
        Py_ssize_t size = LIST_SIZE(items);
        for (Py_ssize_t i = 0; result && i < size; i++) {
            result = test(LIST_ITEM(items, i), cls);
        }
        END_LOCKED()
        return result;
    }
    if (PyTuple_CheckExact(items)) {
        Py_ssize_t size = TUPLE_SIZE(items);
        for (Py_ssize_t i = 0; result && i < size; i++) {
            result = test(TUPLE_ITEM(items, i), cls);
        }
        return result;
    }
    if (PyDict_CheckExact(items)) {
        BEGIN_LOCKED(items)
        Py_ssize_t position = 0;
        PyObject *key;
        while (result && PyDict_Next(items, &position, &key, NULL)) {
            result = test(key, cls);
        }
        END_LOCKED()
        return result;
    }
    PyObject *iterator = PyObject_GetIter(items);
    if (iterator == NULL) {
        return -1;
    }
    PyObject *item;
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

/* An exact dict whose keys are all exact str holding Unicode text: a compiled checker's first
 * test of every TypedDict and dict[str, X] value, in one call rather than a type test, an
 * all_of_type and a surrogate scan. */
static PyObject *
is_str_keyed_dict(PyObject *module, PyObject *item)
{
    (void)module;
    if (!PyDict_CheckExact(item)) {
        Py_RETURN_FALSE;
    }
    return answer(every_item(item, NULL, is_text));
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
"Whether every item is an exact float that is neither NaN nor infinite, or an exact int that\n"
"a float holds (float(item) does not overflow).");

PyDoc_STRVAR(is_str_keyed_dict_doc,
"is_str_keyed_dict(item, /)\n--\n\n"
"Whether item is exactly a dict (not a subclass) whose keys are all exactly str, none with a\n"
"lone surrogate.");

static PyMethodDef methods[] = {
    {"all_of_type", (PyCFunction)(void (*)(void))all_of_type, METH_FASTCALL, all_of_type_doc},
    {"all_finite_numbers", all_finite_numbers, METH_O, all_finite_numbers_doc},
    {"is_str_keyed_dict", is_str_keyed_dict, METH_O, is_str_keyed_dict_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
/* Tested by their values, which the headers declare only where the targeted API has the slot:
 * neither for the 3.11 limited API (whose newer headers declare the slot names all the same),
 * both for a 3.13+ free-threaded build. */
#ifdef Py_MOD_PER_INTERPRETER_GIL_SUPPORTED
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_MOD_GIL_NOT_USED
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
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
