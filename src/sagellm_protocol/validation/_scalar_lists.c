/* Exact-type checks over lists of scalars, for the compiled checkers (validation/_compile.py),
 * and the key count of validate_json()'s typed path (validation/_typed_json.py).
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
#include "_typed_decode.h"
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#  include <emmintrin.h>
#endif

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

/* validate_json()'s typed path: msgspec decodes a TypedDict into a dict and skips the keys it
 * does not declare, so the keys the decoded value holds are counted against the text's. */

/* The bytes of a 64-byte block that are quotes, backslashes and colons, as bit masks (bit i for
 * block[i]). */
#define BLOCK 64
typedef struct {
    uint64_t quotes, backslashes, colons;
} block_masks;

static block_masks
masks_of(const unsigned char *block)
{
    block_masks masks = {0, 0, 0};
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    const __m128i colon = _mm_set1_epi8(':');
    for (int i = 0; i < BLOCK; i += 16) {
        __m128i chunk = _mm_loadu_si128((const __m128i *)(block + i));
        masks.quotes |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, quote)) << i;
        masks.backslashes |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, backslash))
                             << i;
        masks.colons |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, colon)) << i;
    }
#else
    for (int i = 0; i < BLOCK; i++) {
        masks.quotes |= (uint64_t)(block[i] == '"') << i;
        masks.backslashes |= (uint64_t)(block[i] == '\\') << i;
        masks.colons |= (uint64_t)(block[i] == ':') << i;
    }
#endif
    return masks;
}

static int
bits_set(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}

/* Bit i set where an odd number of bits 0..i of x are set: with x the quotes of a block free of
 * escapes, the bytes from each opening quote up to (not including) its closing one. */
static uint64_t
running_parity(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/* Where a scan of a JSON text stands at the end of a block. */
typedef struct {
    int in_string; /* inside a string */
    int escaped;   /* the last byte was a backslash that escapes the next one */
} text_state;

/* The colons outside strings among the size bytes of block (at most BLOCK), from state on. A
 * block without a backslash (nearly every block) is read as bit masks: its quotes tell where its
 * strings are; one with a backslash, or after one, byte by byte. */
static Py_ssize_t
colons_in_block(const unsigned char *block, int size, text_state *state)
{
    unsigned char padded[BLOCK];
    if (size < BLOCK) { /* the last block: zeros are none of the bytes looked for */
        memset(padded, 0, BLOCK);
        memcpy(padded, block, (size_t)size);
        block = padded;
    }
    block_masks masks = masks_of(block);
    if (!state->escaped && masks.backslashes == 0) {
        uint64_t strings = running_parity(masks.quotes);
        if (state->in_string) {
            strings = ~strings;
        }
        state->in_string = (int)(strings >> (BLOCK - 1));
        return bits_set(masks.colons & ~strings);
    }
    Py_ssize_t colons = 0;
    for (int i = 0; i < size; i++) {
        unsigned char c = block[i];
        if (!state->in_string) {
            colons += c == ':';
            state->in_string = c == '"';
        }
        else if (state->escaped) {
            state->escaped = 0;
        }
        else if (c == '\\') {
            state->escaped = 1;
        }
        else if (c == '"') {
            state->in_string = 0;
        }
    }
    return colons;
}

/* The keys of the objects of a JSON text a parser has accepted: its colons outside strings. */
static Py_ssize_t
keys_in_text(const char *text, Py_ssize_t size)
{
    text_state state = {0, 0};
    Py_ssize_t keys = 0;
    for (Py_ssize_t start = 0; start < size; start += BLOCK) {
        Py_ssize_t left = size - start;
        keys += colons_in_block(
            (const unsigned char *)text + start, left < BLOCK ? (int)left : BLOCK, &state);
    }
    return keys;
}

/* The keys of every exact dict in value, a tree of exact dicts and lists that a decoder has just
 * built (no other thread holds it yet, so no lock is taken); -1 with an exception set. */
static Py_ssize_t
keys_in_value(PyObject *value)
{
    int is_dict = PyDict_CheckExact(value);
    if (Py_EnterRecursiveCall(" counting the keys of a decoded value")) {
        return -1;
    }
    Py_ssize_t keys = 0, size = 0, position = 0;
    PyObject *item;
    if (is_dict) {
        keys = PyDict_Size(value);
    }
    else {
        size = LIST_SIZE(value);
    }
    for (Py_ssize_t i = 0; keys >= 0; i++) {
        if (is_dict ? !PyDict_Next(value, &position, NULL, &item) : i >= size) {
            break;
        }
        if (!is_dict) {
            item = LIST_ITEM(value, i);
        }
        if (PyDict_CheckExact(item) || PyList_CheckExact(item)) {
            Py_ssize_t inner = keys_in_value(item);
            keys = inner < 0 ? -1 : keys + inner;
        }
    }
    Py_LeaveRecursiveCall();
    return keys;
}

/* The keys of the exact dicts in value where shape says dicts may be: None, nowhere; True,
 * anywhere (keys_in_value); a list [item_shape], in the items of a list; a 1-tuple
 * (value_shape,), in a dict and its values; a dict {key: shape}, in a dict and the values of
 * those keys. Where value is not what shape describes, keys_in_value counts. A shape that misses
 * a place can only make the count smaller: never the same by mistake. Shapes are made once per
 * type and never changed, and the value is this call's alone: neither is locked. */
static Py_ssize_t
keys_in_shaped(PyObject *value, PyObject *shape)
{
    if (shape == Py_None) {
        return 0;
    }
    int is_dict = PyDict_CheckExact(value);
    if (!is_dict && !PyList_CheckExact(value)) {
        return 0;
    }
    int by_key = is_dict && PyDict_CheckExact(shape);
    if (shape == Py_True || (is_dict ? !by_key && !PyTuple_CheckExact(shape)
                                     : !PyList_CheckExact(shape))) {
        return keys_in_value(value);
    }
    if (Py_EnterRecursiveCall(" counting the keys of a decoded value")) {
        return -1;
    }
    Py_ssize_t keys = 0, inner = 0;
    if (!is_dict) {
        PyObject *item_shape = LIST_ITEM(shape, 0);
        Py_ssize_t size = item_shape == Py_None ? 0 : LIST_SIZE(value);
        for (Py_ssize_t i = 0; inner >= 0 && i < size; i++) {
            inner = keys_in_shaped(LIST_ITEM(value, i), item_shape);
            keys += inner;
        }
    }
    else if (!by_key) {
        Py_ssize_t position = 0;
        PyObject *item, *item_shape = TUPLE_ITEM(shape, 0);
        keys = PyDict_Size(value);
        while (inner >= 0 && PyDict_Next(value, &position, NULL, &item)) {
            inner = keys_in_shaped(item, item_shape);
            keys += inner;
        }
    }
    else if (5 * PyDict_Size(shape) < 2 * PyDict_Size(value)) {
        /* Few keys may hold dicts, among many: each looked up (about 60 instructions). */
        Py_ssize_t position = 0;
        PyObject *key, *item_shape;
        keys = PyDict_Size(value);
        while (inner >= 0 && PyDict_Next(shape, &position, &key, &item_shape)) {
            PyObject *item = PyDict_GetItemWithError(value, key);
            if (item != NULL) {
                inner = keys_in_shaped(item, item_shape);
                keys += inner;
            }
            else if (PyErr_Occurred()) {
                inner = -1;
            }
        }
    }
    else if (PyDict_Size(shape) > 0) {
        /* Each item read (about 25 instructions); only a dict or a list has its key looked up. */
        Py_ssize_t position = 0;
        PyObject *key, *item;
        keys = PyDict_Size(value);
        while (inner >= 0 && PyDict_Next(value, &position, &key, &item)) {
            if (!PyDict_CheckExact(item) && !PyList_CheckExact(item)) {
                continue;
            }
            PyObject *item_shape = PyDict_GetItemWithError(shape, key);
            if (item_shape != NULL) {
                inner = keys_in_shaped(item, item_shape);
                keys += inner;
            }
            else if (PyErr_Occurred()) {
                inner = -1;
            }
        }
    }
    else {
        keys = PyDict_Size(value);
    }
    Py_LeaveRecursiveCall();
    return inner < 0 ? -1 : keys;
}

/* Whether value has as many keys as the JSON text data: the decoder skipped none, and no key
 * came twice. */
static PyObject *
same_key_count(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    const char *text;
    Py_ssize_t size;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "same_key_count(data, value, shape) takes 3 arguments");
        return NULL;
    }
    if (json_text(args[0], "same_key_count", &text, &size) < 0) {
        return NULL;
    }
    Py_ssize_t in_value = keys_in_shaped(args[1], args[2]);
    if (in_value < 0) {
        PyErr_Clear(); /* nested past the recursion limit: no answer, so not the same */
        Py_RETURN_FALSE;
    }
    return PyBool_FromLong(keys_in_text(text, size) == in_value);
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

PyDoc_STRVAR(same_key_count_doc,
"same_key_count(data, value, shape, /)\n--\n\n"
"Whether value, decoded from the JSON text data (bytes or str), has as many keys in its dicts\n"
"(exact dicts, in exact dicts and lists, where shape says they may be) as data has in its\n"
"objects.");

static PyMethodDef methods[] = {
    {"all_of_type", (PyCFunction)(void (*)(void))all_of_type, METH_FASTCALL, all_of_type_doc},
    {"all_finite_numbers", all_finite_numbers, METH_O, all_finite_numbers_doc},
    {"is_str_keyed_dict", is_str_keyed_dict, METH_O, is_str_keyed_dict_doc},
    {"same_key_count", (PyCFunction)(void (*)(void))same_key_count, METH_FASTCALL,
     same_key_count_doc},
    {"typed_program", typed_program, METH_O, typed_program_doc},
    {"typed_decode", (PyCFunction)(void (*)(void))typed_decode, METH_FASTCALL, typed_decode_doc},
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
