/* validate_json()'s typed decoder: JSON text to the value json.loads makes, read against a type.
 *
 * msgspec decodes a TypedDict straight into a dict but skips the keys the TypedDict does not
 * declare, so its typed path had to count the text's keys again (a third of a call on small
 * payloads). This decoder reads the text once, builds the dicts, lists, strings and numbers
 * json.loads would build, and checks as it goes what the type's msgspec mirror states (see
 * validation/_typed_json.py): the keys of each TypedDict (none undeclared, none missing, none
 * twice), the kind of each value, string and container lengths, number bounds, literal choices.
 *
 * It only ever accepts: anything it does not take (invalid JSON, a value of the wrong type, an
 * integer of more than 18 digits where bounds apply, a lone surrogate, nesting past max_depth,
 * a key given twice) makes it answer NotImplemented, and the untyped parse decides and explains.
 * So what it accepts is a subset of what msgspec's typed decode accepts, with the same values,
 * and of what json.loads accepts under the module's policy (validation/_json.py).
 *
 * Keys of TypedDicts are the program's own interned strings; literal strings are the program's
 * objects too. Only fresh objects are built and only immutable shared ones read, so no lock is
 * taken on a free-threaded interpreter.
 */
#include "_typed_decode.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#  include <emmintrin.h>
#endif

/* What a JSON value starts as, which picks a union's option. */
enum token { T_OBJECT, T_ARRAY, T_STRING, T_INT, T_FLOAT, T_BOOL, T_NULL, TOKEN_KINDS, T_NUMBER };

enum kind {
    K_ANY,    /* any JSON value */
    K_NONE,   /* null */
    K_BOOL,   /* true or false */
    K_STR,    /* a string, its length in code points bounded */
    K_STRS,   /* one of some strings */
    K_INT,    /* an integer, bounded */
    K_INTS,   /* one of some integers */
    K_FLOAT,  /* a number with a fraction or an exponent, bounded */
    K_LIST,   /* an array of one item type, its length bounded */
    K_DICT,   /* an object of one value type, its size bounded */
    K_FIELDS, /* a TypedDict: declared keys, each with its type, some required */
    K_UNION,  /* one option per token kind */
    K_CHECK,  /* its child's value, which the residual check must then see */
};

/* A TypedDict's rule: its invariants' quick predicates, as a tree of tests made on the built
 * value. A test that cannot be made (a key absent where Python would raise, values that do
 * not compare) is false: the residual check then decides. */
enum rule_op {
    R_AND,    /* all of its children */
    R_OR,     /* any of its children */
    R_NOT,    /* not its child */
    R_LEN,    /* the value has `count` keys */
    R_HAS,    /* key `field` is present */
    R_IN,     /* key `field` is present and its value is in the set `object` */
    R_TYPE,   /* key `field` is present and its value's type is exactly `object` */
    R_NONE,   /* key `field` is absent or None (`value.get(key) is None`) */
    R_TRUTHY, /* key `field` is present and its value true (`value.get(key)`) */
    R_CMP,    /* keys `field` and `other` are present and compare by `count` (Py_LT ...) */
};

typedef struct rule rule;
struct rule {
    enum rule_op op;
    Py_ssize_t field, other, count;
    PyObject *object; /* owned */
    rule *children;   /* R_AND, R_OR: count; R_NOT: 1 */
};

#define MAX_FIELDS 64 /* a TypedDict's keys seen are one bit each */

typedef struct node node;
struct node {
    enum kind kind;
    Py_ssize_t min_len, max_len;       /* K_STR, K_LIST, K_DICT: -1 where unbounded */
    int has_lo, has_hi;                /* K_INT, K_FLOAT */
    long long int_lo, int_hi;          /* K_INT: inclusive */
    double lo, hi;                     /* K_FLOAT */
    int lo_open, hi_open;              /* K_FLOAT: the bound itself is out */
    Py_ssize_t count;                  /* K_STRS, K_INTS, K_FIELDS: choices or keys */
    PyObject **objects;                /* K_STRS: strings; K_FIELDS: key names (owned) */
    const char **texts;                /* K_STRS, K_FIELDS: their UTF-8 (kept by objects) */
    Py_ssize_t *sizes;                 /* K_STRS, K_FIELDS: its size */
    long long *ints;                   /* K_INTS */
    node **children;                   /* K_LIST, K_DICT: 1; K_FIELDS: count; K_UNION: 7 */
    uint64_t required;                 /* K_FIELDS: bit i for key i */
    unsigned char *slots;              /* K_FIELDS: key i + 1 at key_hash's slot, or past it */
    unsigned mask;                     /* K_FIELDS: the number of slots - 1 */
    rule *rule;                        /* K_FIELDS: its rules' quick predicates, or NULL */
};

static int
bits_in(uint64_t x)
{
    int bits = 0;
    for (; x; x &= x - 1) {
        bits++;
    }
    return bits;
}

/* A cheap hash of a key's bytes, for the table of a TypedDict's keys (a few probes at most). */
static unsigned
key_hash(const unsigned char *key, Py_ssize_t size)
{
    if (size == 0) {
        return 0;
    }
    return (unsigned)size * 7u + key[0] * 31u + key[size - 1] * 17u + key[size / 2] * 3u;
}

/* ---- the program: built from the spec, freed with its capsule ---- */

static const char CAPSULE_NAME[] = "sagellm_protocol typed program";

/* Frees what rule r holds, not r itself. */
static void
free_rule(rule *r)
{
    Py_ssize_t children = r->op == R_NOT ? 1 : (r->op == R_AND || r->op == R_OR) ? r->count : 0;
    for (Py_ssize_t i = 0; r->children != NULL && i < children; i++) {
        free_rule(&r->children[i]);
    }
    PyMem_Free(r->children);
    Py_XDECREF(r->object);
}

static void
free_node(node *n)
{
    if (n == NULL) {
        return;
    }
    Py_ssize_t children = n->kind == K_UNION ? TOKEN_KINDS
                          : n->kind == K_FIELDS ? n->count
                          : (n->kind == K_LIST || n->kind == K_DICT || n->kind == K_CHECK) ? 1
                                                                                            : 0;
    if (n->children != NULL) {
        for (Py_ssize_t i = 0; i < children; i++) {
            free_node(n->children[i]);
        }
    }
    if (n->objects != NULL) {
        for (Py_ssize_t i = 0; i < n->count; i++) {
            Py_XDECREF(n->objects[i]);
        }
    }
    PyMem_Free(n->children);
    PyMem_Free(n->objects);
    PyMem_Free(n->texts);
    PyMem_Free(n->sizes);
    PyMem_Free(n->ints);
    PyMem_Free(n->slots);
    if (n->rule != NULL) {
        free_rule(n->rule);
        PyMem_Free(n->rule);
    }
    PyMem_Free(n);
}

static void
free_program(PyObject *capsule)
{
    free_node((node *)PyCapsule_GetPointer(capsule, CAPSULE_NAME));
}

static int
spec_error(const char *what)
{
    PyErr_Format(PyExc_ValueError, "typed_program(): %s", what);
    return -1;
}

/* An optional length (None or an int >= 0) into *out (-1 for None). */
static int
read_length(PyObject *item, Py_ssize_t *out)
{
    if (item == Py_None) {
        *out = -1;
        return 0;
    }
    *out = PyLong_AsSsize_t(item);
    return *out < 0 ? (PyErr_Occurred() ? -1 : spec_error("a negative length")) : 0;
}

static node *build_node(PyObject *spec);

/* An optional bound (None or a number) into *as_int or *as_float, whichever is given; *has
 * says whether it is set. */
static int
read_bound(PyObject *item, int *has, long long *as_int, double *as_float)
{
    if (item == Py_None) {
        return 0;
    }
    *has = 1;
    if (as_int != NULL) {
        *as_int = PyLong_AsLongLong(item);
    }
    else {
        *as_float = PyFloat_AsDouble(item);
    }
    return PyErr_Occurred() ? -1 : 0;
}

/* The strings of a tuple into n->objects, n->texts and n->sizes. */
static int
read_strings(node *n, PyObject *strings)
{
    n->count = PyTuple_Size(strings);
    if (n->count < 0) {
        return -1;
    }
    size_t count = (size_t)n->count;
    n->objects = PyMem_Calloc(count ? count : 1, sizeof(PyObject *));
    n->texts = PyMem_Calloc(count ? count : 1, sizeof(char *));
    n->sizes = PyMem_Calloc(count ? count : 1, sizeof(Py_ssize_t));
    if (n->objects == NULL || n->texts == NULL || n->sizes == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n->count; i++) {
        PyObject *text = PyTuple_GetItem(strings, i);
        if (text == NULL || !PyUnicode_CheckExact(text)) {
            return text == NULL ? -1 : spec_error("a name or choice that is not a str");
        }
        Py_INCREF(text);
        PyUnicode_InternInPlace(&text);
        n->objects[i] = text;
        n->texts[i] = PyUnicode_AsUTF8AndSize(text, &n->sizes[i]);
        if (n->texts[i] == NULL) {
            return -1;
        }
    }
    return 0;
}

static int
build_fields(node *n, PyObject *fields)
{
    Py_ssize_t count = PyTuple_Size(fields);
    if (count < 0) {
        return -1;
    }
    if (count > MAX_FIELDS) {
        return spec_error("a TypedDict of more than 64 keys");
    }
    PyObject *names = PyTuple_New(count);
    if (names == NULL) {
        return -1;
    }
    n->children = PyMem_Calloc(count ? (size_t)count : 1, sizeof(node *));
    int failed = n->children == NULL ? (PyErr_NoMemory(), -1) : 0;
    for (Py_ssize_t i = 0; !failed && i < count; i++) {
        PyObject *field = PyTuple_GetItem(fields, i), *name, *type, *required;
        if (field == NULL || !PyArg_ParseTuple(field, "OOO", &name, &type, &required)) {
            failed = -1;
            break;
        }
        Py_INCREF(name);
        PyTuple_SetItem(names, i, name);
        n->children[i] = build_node(type);
        failed = n->children[i] == NULL ? -1 : 0;
        if (PyObject_IsTrue(required)) {
            n->required |= (uint64_t)1 << i;
        }
    }
    if (!failed) {
        failed = read_strings(n, names);
    }
    if (!failed) { /* open addressing, at most half full */
        unsigned slots = 2;
        while (slots < 2 * (unsigned)count) {
            slots *= 2;
        }
        n->mask = slots - 1;
        n->slots = PyMem_Calloc(slots, 1);
        failed = n->slots == NULL ? (PyErr_NoMemory(), -1) : 0;
        for (Py_ssize_t i = 0; !failed && i < count; i++) {
            unsigned slot = key_hash((const unsigned char *)n->texts[i], n->sizes[i]) & n->mask;
            while (n->slots[slot] != 0) {
                slot = (slot + 1) & n->mask;
            }
            n->slots[slot] = (unsigned char)(i + 1);
        }
    }
    else {
        n->count = count; /* the children built so far are freed with the node */
    }
    Py_DECREF(names);
    return failed;
}

static int spec_error(const char *what);

/* Rule r from its spec: ("and", (rule, ...)), ("or", (rule, ...)), ("not", rule),
 * ("len", count), ("has", field), ("in", field, set), ("type", field, type), ("none", field),
 * ("truthy", field), ("cmp", op, field, other) with op one of Py_LT ... Py_GE; fields index
 * the TypedDict's keys (fields of them). */
static int
build_rule(rule *r, PyObject *spec, Py_ssize_t fields)
{
    const char *op;
    PyObject *a = NULL, *b = NULL, *c = NULL;
    if (!PyTuple_Check(spec) || !PyArg_ParseTuple(spec, "s|OOO", &op, &a, &b, &c)) {
        return PyErr_Occurred() ? -1 : spec_error("a rule that is not a tuple");
    }
    int is_and = strcmp(op, "and") == 0;
    if (is_and || strcmp(op, "or") == 0) {
        r->op = is_and ? R_AND : R_OR;
        r->count = a != NULL && PyTuple_Check(a) ? PyTuple_Size(a) : -1;
        if (r->count < 0 || b != NULL) {
            return spec_error("a malformed rule");
        }
        r->children = PyMem_Calloc(r->count ? (size_t)r->count : 1, sizeof(rule));
        if (r->children == NULL) {
            r->count = 0;
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < r->count; i++) {
            if (build_rule(&r->children[i], PyTuple_GetItem(a, i), fields) < 0) {
                return -1;
            }
        }
        return 0;
    }
    if (strcmp(op, "not") == 0) {
        r->op = R_NOT;
        r->children = a != NULL && b == NULL ? PyMem_Calloc(1, sizeof(rule)) : NULL;
        if (r->children == NULL) {
            return PyErr_Occurred() ? -1 : spec_error("a malformed rule");
        }
        return build_rule(r->children, a, fields);
    }
    Py_ssize_t number = a == NULL ? -1 : PyLong_AsSsize_t(a);
    if (number < 0) {
        return PyErr_Occurred() ? -1 : spec_error("a malformed rule");
    }
    if (strcmp(op, "len") == 0 && b == NULL) {
        r->op = R_LEN;
        r->count = number;
        return 0;
    }
    if (strcmp(op, "cmp") == 0 && c != NULL) {
        r->op = R_CMP;
        r->count = number;
        r->field = PyLong_AsSsize_t(b);
        r->other = PyLong_AsSsize_t(c);
        if (PyErr_Occurred()) {
            return -1;
        }
        if (number > Py_GE || r->field < 0 || r->field >= fields || r->other < 0 ||
            r->other >= fields) {
            return spec_error("a malformed rule");
        }
        return 0;
    }
    r->field = number;
    if (number >= fields || c != NULL) {
        return spec_error("a rule on a key the TypedDict does not declare");
    }
    if (strcmp(op, "has") == 0 && b == NULL) {
        r->op = R_HAS;
    }
    else if (strcmp(op, "none") == 0 && b == NULL) {
        r->op = R_NONE;
    }
    else if (strcmp(op, "truthy") == 0 && b == NULL) {
        r->op = R_TRUTHY;
    }
    else if (strcmp(op, "in") == 0 && b != NULL && PyAnySet_Check(b)) {
        r->op = R_IN;
    }
    else if (strcmp(op, "type") == 0 && b != NULL && PyType_Check(b)) {
        r->op = R_TYPE;
    }
    else {
        return spec_error("a malformed rule");
    }
    Py_XINCREF(b);
    r->object = b;
    return 0;
}

/* A node from its spec (a tuple whose first item names its kind); NULL with an exception set. */
static node *
build_node(PyObject *spec)
{
    if (!PyTuple_Check(spec) || PyTuple_Size(spec) < 1) {
        spec_error("a spec that is not a non-empty tuple");
        return NULL;
    }
    const char *kind = PyUnicode_AsUTF8AndSize(PyTuple_GetItem(spec, 0), NULL);
    if (kind == NULL) {
        return NULL;
    }
    node *n = PyMem_Calloc(1, sizeof(node));
    if (n == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    n->min_len = n->max_len = -1;
    PyObject *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    int failed = 0;
    if (strcmp(kind, "any") == 0) {
        n->kind = K_ANY;
    }
    else if (strcmp(kind, "none") == 0) {
        n->kind = K_NONE;
    }
    else if (strcmp(kind, "bool") == 0) {
        n->kind = K_BOOL;
    }
    else if (strcmp(kind, "str") == 0) {
        n->kind = K_STR;
        failed = !PyArg_ParseTuple(spec, "sOO", &kind, &a, &b) || read_length(a, &n->min_len) ||
                 read_length(b, &n->max_len);
    }
    else if (strcmp(kind, "strs") == 0) {
        n->kind = K_STRS;
        failed = !PyArg_ParseTuple(spec, "sO!", &kind, &PyTuple_Type, &a) || read_strings(n, a);
    }
    else if (strcmp(kind, "int") == 0) {
        n->kind = K_INT;
        failed = !PyArg_ParseTuple(spec, "sOO", &kind, &a, &b) ||
                 read_bound(a, &n->has_lo, &n->int_lo, NULL) ||
                 read_bound(b, &n->has_hi, &n->int_hi, NULL);
    }
    else if (strcmp(kind, "ints") == 0) {
        n->kind = K_INTS;
        failed = !PyArg_ParseTuple(spec, "sO!", &kind, &PyTuple_Type, &a);
        n->count = failed ? 0 : PyTuple_Size(a);
        n->ints = failed ? NULL : PyMem_Calloc(n->count ? (size_t)n->count : 1, sizeof(long long));
        failed = failed || n->ints == NULL;
        for (Py_ssize_t i = 0; !failed && i < n->count; i++) {
            n->ints[i] = PyLong_AsLongLong(PyTuple_GetItem(a, i));
            failed = PyErr_Occurred() != NULL;
        }
        n->count = failed ? 0 : n->count;
    }
    else if (strcmp(kind, "float") == 0) {
        n->kind = K_FLOAT;
        failed = !PyArg_ParseTuple(spec, "sOpOp", &kind, &a, &n->lo_open, &b, &n->hi_open) ||
                 read_bound(a, &n->has_lo, NULL, &n->lo) || read_bound(b, &n->has_hi, NULL, &n->hi);
    }
    else if (strcmp(kind, "list") == 0 || strcmp(kind, "dict") == 0) {
        n->kind = kind[0] == 'l' ? K_LIST : K_DICT;
        failed = !PyArg_ParseTuple(spec, "sOOO", &kind, &a, &b, &c) ||
                 read_length(b, &n->min_len) || read_length(c, &n->max_len);
        n->children = failed ? NULL : PyMem_Calloc(1, sizeof(node *));
        failed = failed || n->children == NULL || (n->children[0] = build_node(a)) == NULL;
    }
    else if (strcmp(kind, "fields") == 0) {
        n->kind = K_FIELDS;
        failed = !PyArg_ParseTuple(spec, "sO!O", &kind, &PyTuple_Type, &a, &b) ||
                 build_fields(n, a);
        if (!failed && b != Py_None) {
            n->rule = PyMem_Calloc(1, sizeof(rule));
            failed = n->rule == NULL ? (PyErr_NoMemory(), 1) : build_rule(n->rule, b, n->count);
        }
    }
    else if (strcmp(kind, "check") == 0) {
        n->kind = K_CHECK;
        failed = !PyArg_ParseTuple(spec, "sO", &kind, &a);
        n->children = failed ? NULL : PyMem_Calloc(1, sizeof(node *));
        failed = failed || n->children == NULL || (n->children[0] = build_node(a)) == NULL;
    }
    else if (strcmp(kind, "union") == 0) {
        n->kind = K_UNION;
        failed = !PyArg_ParseTuple(spec, "sO!", &kind, &PyTuple_Type, &a) ||
                 PyTuple_Size(a) != TOKEN_KINDS;
        n->children = failed ? NULL : PyMem_Calloc(TOKEN_KINDS, sizeof(node *));
        failed = failed || n->children == NULL;
        for (int i = 0; !failed && i < TOKEN_KINDS; i++) {
            d = PyTuple_GetItem(a, i);
            if (d != Py_None) {
                failed = (n->children[i] = build_node(d)) == NULL;
            }
        }
    }
    else {
        spec_error("an unknown kind");
        failed = 1;
    }
    if (failed) {
        if (!PyErr_Occurred()) {
            spec_error("a malformed spec");
        }
        free_node(n);
        return NULL;
    }
    return n;
}

PyObject *
typed_program(PyObject *module, PyObject *spec)
{
    (void)module;
    node *root = build_node(spec);
    if (root == NULL) {
        return NULL;
    }
    PyObject *capsule = PyCapsule_New(root, CAPSULE_NAME, free_program);
    if (capsule == NULL) {
        free_node(root);
    }
    return capsule;
}

/* ---- the reader ---- */

typedef struct {
    const unsigned char *at, *end;
    int depth, max_depth;
    int unchecked; /* a value the residual check must see was read */
} reader;

/* Every failure below returns NULL (or -1), with or without an exception: the caller clears it
 * and answers NotImplemented. */

static void
skip_space(reader *r)
{
    while ((*r->at == ' ' || *r->at == '\n' || *r->at == '\r' || *r->at == '\t')) {
        r->at++;
    }
}

static int
take(reader *r, const char *word, Py_ssize_t size)
{
    if (r->end - r->at < size || memcmp(r->at, word, (size_t)size) != 0) {
        return -1;
    }
    r->at += size;
    return 0;
}

/* A string token, r->at on its opening quote: its bytes between the quotes in *start, *size;
 * whether it has escapes in *escaped. Refuses raw control characters. */
static int
scan_string(reader *r, const unsigned char **start, Py_ssize_t *size, int *escaped)
{
    const unsigned char *at = r->at + 1, *end = r->end;
    *escaped = 0;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    const __m128i below_space = _mm_set1_epi8(0x1F);
    while (end - at >= 16) {
        __m128i chunk = _mm_loadu_si128((const __m128i *)at);
        __m128i stops = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)),
            _mm_cmpeq_epi8(_mm_min_epu8(chunk, below_space), chunk));
        int mask = _mm_movemask_epi8(stops);
        if (mask != 0) {
            at += __builtin_ctz((unsigned)mask);
            break;
        }
        at += 16;
    }
#endif
    for (; at < end; at++) {
        unsigned char c = *at;
        if (c == '"') {
            *start = r->at + 1;
            *size = at - *start;
            r->at = at + 1;
            return 0;
        }
        if (c < 0x20) {
            return -1;
        }
        if (c == '\\') {
            *escaped = 1;
            if (++at == end) {
                return -1;
            }
        }
    }
    return -1;
}

static int
hex_value(const unsigned char *at, unsigned *out)
{
    unsigned value = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = at[i];
        unsigned digit = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                         : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                                : 16u;
        if (digit == 16u) {
            return -1;
        }
        value = value * 16 + digit;
    }
    *out = value;
    return 0;
}

/* The str of a string token's bytes; NULL for an invalid escape, a lone surrogate or bytes that
 * are not UTF-8. */
static PyObject *
make_string(const unsigned char *start, Py_ssize_t size, int escaped)
{
    if (!escaped) {
        return PyUnicode_DecodeUTF8((const char *)start, size, NULL);
    }
    /* An escape is never shorter than what it stands for in UTF-8. */
    unsigned char *text = PyMem_Malloc(size ? (size_t)size : 1), *out = text;
    if (text == NULL) {
        return PyErr_NoMemory();
    }
    const unsigned char *at = start, *end = start + size;
    while (at < end) {
        if (*at != '\\') {
            *out++ = *at++;
            continue;
        }
        unsigned char c = at[1];
        at += 2;
        switch (c) {
        case '"': case '\\': case '/':
            *out++ = c;
            continue;
        case 'b':
            *out++ = '\b';
            continue;
        case 'f':
            *out++ = '\f';
            continue;
        case 'n':
            *out++ = '\n';
            continue;
        case 'r':
            *out++ = '\r';
            continue;
        case 't':
            *out++ = '\t';
            continue;
        case 'u':
            break;
        default:
            goto refused;
        }
        unsigned point, low;
        if (end - at < 4 || hex_value(at, &point) < 0) {
            goto refused;
        }
        at += 4;
        if (point >= 0xDC00 && point <= 0xDFFF) {
            goto refused; /* a lone low surrogate */
        }
        if (point >= 0xD800 && point <= 0xDBFF) {
            if (end - at < 6 || at[0] != '\\' || at[1] != 'u' || hex_value(at + 2, &low) < 0 ||
                low < 0xDC00 || low > 0xDFFF) {
                goto refused; /* a lone high surrogate */
            }
            at += 6;
            point = 0x10000 + ((point - 0xD800) << 10) + (low - 0xDC00);
        }
        if (point < 0x80) {
            *out++ = (unsigned char)point;
        }
        else if (point < 0x800) {
            *out++ = (unsigned char)(0xC0 | (point >> 6));
            *out++ = (unsigned char)(0x80 | (point & 0x3F));
        }
        else if (point < 0x10000) {
            *out++ = (unsigned char)(0xE0 | (point >> 12));
            *out++ = (unsigned char)(0x80 | ((point >> 6) & 0x3F));
            *out++ = (unsigned char)(0x80 | (point & 0x3F));
        }
        else {
            *out++ = (unsigned char)(0xF0 | (point >> 18));
            *out++ = (unsigned char)(0x80 | ((point >> 12) & 0x3F));
            *out++ = (unsigned char)(0x80 | ((point >> 6) & 0x3F));
            *out++ = (unsigned char)(0x80 | (point & 0x3F));
        }
    }
    PyObject *made = PyUnicode_DecodeUTF8((const char *)text, out - text, NULL);
    PyMem_Free(text);
    return made;
refused:
    PyMem_Free(text);
    return NULL;
}

/* A number token, as scanned. */
typedef struct {
    const unsigned char *start, *end;
    int is_float;    /* it has a fraction or an exponent */
    int digits;      /* of the integer part */
    long long small; /* an integer's value, where it has at most 18 digits */
    int exact;       /* a float whose value is `value`, correctly rounded */
    double value;
} number;

#if FLT_EVAL_METHOD == 0
/* The powers of ten a double holds exactly. */
static const double EXACT_POWERS[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};
#endif

/* The number token at r->at, by the JSON grammar. A float of at most 19 significant digits
 * whose digits make an integer below 2^53, scaled by at most 10^22, is one exact division or
 * multiplication of two doubles, so correctly rounded (Clinger's fast path): most floats in
 * JSON; the others are left to PyOS_string_to_double, as float() reads them. */
static int
scan_number(reader *r, number *out)
{
    const unsigned char *at = r->at, *end = r->end;
    int negative = *at == '-';
    at += negative;
    out->start = r->at;
    out->is_float = 0;
    out->exact = 0;
    out->digits = 0;
    unsigned long long mantissa = 0; /* the significant digits, while at most 19 */
    int significant = 0, scale = 0;  /* value = mantissa * 10^scale, while exact */
    if (at == end || *at < '0' || *at > '9') {
        return -1;
    }
    if (*at == '0') {
        at++;
        out->digits = 1;
    }
    else {
        while (*at >= '0' && *at <= '9') {
            if (significant < 19) {
                mantissa = mantissa * 10 + (unsigned)(*at - '0');
                significant++;
            }
            else {
                significant = 20; /* too many to be exact */
            }
            out->digits++;
            at++;
        }
    }
    out->small = negative ? -(long long)mantissa : (long long)mantissa;
    if (*at == '.') {
        out->is_float = 1;
        const unsigned char *fraction = ++at;
        while (*at >= '0' && *at <= '9') {
            if (significant < 19 && (mantissa != 0 || *at != '0')) {
                mantissa = mantissa * 10 + (unsigned)(*at - '0');
                significant++;
                scale--;
            }
            else if (significant < 19) { /* a leading zero of the fraction */
                scale--;
            }
            else {
                significant = 20;
            }
            at++;
        }
        if (at == fraction) {
            return -1;
        }
    }
    if ((*at == 'e' || *at == 'E')) {
        out->is_float = 1;
        at++;
        int exponent_negative = *at == '-';
        if ((*at == '+' || *at == '-')) {
            at++;
        }
        const unsigned char *exponent_start = at;
        int exponent = 0;
        while (*at >= '0' && *at <= '9') {
            if (exponent < 10000) {
                exponent = exponent * 10 + (*at - '0');
            }
            at++;
        }
        if (at == exponent_start) {
            return -1;
        }
        scale += exponent_negative ? -exponent : exponent;
    }
    out->end = r->at = at;
#if FLT_EVAL_METHOD == 0
    if (out->is_float && significant <= 19 && mantissa <= (1ULL << 53) && scale >= -22 &&
        scale <= 22) {
        double value = (double)mantissa;
        value = scale < 0 ? value / EXACT_POWERS[-scale] : value * EXACT_POWERS[scale];
        out->value = negative ? -value : value;
        out->exact = 1;
    }
#endif
    return 0;
}

/* The int of an integer token of more than 18 digits, as int() reads it (NULL past the
 * interpreter's digit limit). */
static PyObject *
big_int(const number *token)
{
    size_t size = (size_t)(token->end - token->start);
    char *text = PyMem_Malloc(size + 1);
    if (text == NULL) {
        return PyErr_NoMemory();
    }
    memcpy(text, token->start, size);
    text[size] = '\0';
    PyObject *made = PyLong_FromString(text, NULL, 10);
    PyMem_Free(text);
    return made;
}

/* The float of a number token with a fraction or an exponent; NULL beyond a double's range.
 * Sets token->value. */
static PyObject *
make_float(number *token)
{
    if (!token->exact) {
        char *stop;
        token->value = PyOS_string_to_double((const char *)token->start, &stop, NULL);
        if ((const unsigned char *)stop != token->end || !isfinite(token->value)) {
            return NULL;
        }
    }
    return PyFloat_FromDouble(token->value);
}

/* What the value at r->at starts as: T_NUMBER for any number (scan_number tells which). */
static enum token
token_at(reader *r)
{
    skip_space(r);
    switch (*r->at) {
    case '{':
        return T_OBJECT;
    case '[':
        return T_ARRAY;
    case '"':
        return T_STRING;
    case 't':
    case 'f':
        return T_BOOL;
    case 'n':
        return T_NULL;
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return T_NUMBER;
    default:
        return TOKEN_KINDS;
    }
}

static PyObject *read_value(reader *r, const node *n);

/* After an item of an array or an object: 1 at its closing bracket (taken), 0 after a comma. */
static int
next_item(reader *r, unsigned char closing)
{
    skip_space(r);
    if (*r->at == ',') {
        r->at++;
        return 0;
    }
    if (*r->at == closing) {
        r->at++;
        return 1;
    }
    return -1;
}

/* Whether the container opening at r->at ('[' or '{') is empty (then taken whole). */
static int
open_container(reader *r)
{
    if (++r->depth > r->max_depth) {
        return -1;
    }
    unsigned char closing = *r->at == '[' ? ']' : '}';
    r->at++;
    skip_space(r);
    if (*r->at == closing) {
        r->at++;
        return 1;
    }
    return 0;
}

static PyObject *
read_list(reader *r, const node *item, Py_ssize_t min_len, Py_ssize_t max_len)
{
    PyObject *stack[16], **items = stack, *list = NULL;
    Py_ssize_t size = 0, room = 16;
    int empty = open_container(r);
    if (empty < 0) {
        return NULL;
    }
    for (int done = empty; !done;) {
        if (size == room) {
            PyObject **grown = PyMem_Malloc((size_t)room * 2 * sizeof(PyObject *));
            if (grown == NULL) {
                goto failed;
            }
            memcpy(grown, items, (size_t)size * sizeof(PyObject *));
            if (items != stack) {
                PyMem_Free(items);
            }
            items = grown;
            room *= 2;
        }
        PyObject *value = read_value(r, item);
        if (value == NULL) {
            goto failed;
        }
        items[size++] = value;
        done = next_item(r, ']');
        if (done < 0) {
            goto failed;
        }
    }
    if ((min_len >= 0 && size < min_len) || (max_len >= 0 && size > max_len)) {
        goto failed;
    }
    list = PyList_New(size);
    if (list == NULL) {
        goto failed;
    }
    for (Py_ssize_t i = 0; i < size; i++) {
        PyList_SetItem(list, i, items[i]); /* steals the reference */
    }
    size = 0;
failed:
    for (Py_ssize_t i = 0; i < size; i++) {
        Py_DECREF(items[i]);
    }
    if (items != stack) {
        PyMem_Free(items);
    }
    r->depth--;
    return list;
}

/* A key of an object: a string token and its colon. */
static int
read_key(reader *r, const unsigned char **start, Py_ssize_t *size, int *escaped)
{
    skip_space(r);
    if (*r->at != '"' || scan_string(r, start, size, escaped) < 0) {
        return -1;
    }
    skip_space(r);
    if (*r->at != ':') {
        return -1;
    }
    r->at++;
    return 0;
}

/* Reads one member of an object into dict, its key's bytes told: 0, or -1 to refuse. */
typedef int (*member_reader)(reader *r, void *state, PyObject *dict, const unsigned char *key,
                             Py_ssize_t size, int escaped);

/* The dict of the object at r->at, each member read by read_member; NULL to refuse. */
static PyObject *
read_object(reader *r, member_reader read_member, void *state)
{
    PyObject *dict = PyDict_New();
    int empty = dict == NULL ? -1 : open_container(r);
    if (empty < 0) {
        Py_XDECREF(dict);
        return NULL;
    }
    for (int done = empty; !done;) {
        const unsigned char *start;
        Py_ssize_t size;
        int escaped;
        if (read_key(r, &start, &size, &escaped) < 0 ||
            read_member(r, state, dict, start, size, escaped) < 0 ||
            (done = next_item(r, '}')) < 0) {
            Py_DECREF(dict);
            return NULL;
        }
    }
    r->depth--;
    return dict;
}

/* A member of a dict[str, X]: any key, once. */
static int
read_entry(reader *r, void *value_node, PyObject *dict, const unsigned char *start,
           Py_ssize_t size, int escaped)
{
    PyObject *key = make_string(start, size, escaped);
    if (key == NULL) {
        return -1;
    }
    PyObject *value = read_value(r, value_node);
    Py_ssize_t before = PyDict_Size(dict);
    int stored = value == NULL ? -1 : PyDict_SetItem(dict, key, value);
    Py_DECREF(key);
    Py_XDECREF(value);
    return stored < 0 || PyDict_Size(dict) == before ? -1 : 0; /* a key given twice */
}

static PyObject *
read_dict(reader *r, const node *value_node, Py_ssize_t min_len, Py_ssize_t max_len)
{
    PyObject *dict = read_object(r, read_entry, (void *)value_node);
    Py_ssize_t size = dict == NULL ? 0 : PyDict_Size(dict);
    if (dict != NULL && ((min_len >= 0 && size < min_len) || (max_len >= 0 && size > max_len))) {
        Py_CLEAR(dict);
    }
    return dict;
}

/* Which declared key the key's bytes name; -1 if none. The key declared after the last one read
 * is tried first: texts mostly follow the declaration's order. */
static Py_ssize_t
field_of(const node *n, const unsigned char *start, Py_ssize_t size, int escaped, Py_ssize_t hint)
{
    if (escaped) {
        PyObject *key = make_string(start, size, 1);
        if (key == NULL) {
            return -1;
        }
        for (Py_ssize_t i = 0; i < n->count; i++) {
            if (PyUnicode_Compare(key, n->objects[i]) == 0) {
                Py_DECREF(key);
                return i;
            }
        }
        Py_DECREF(key);
        return -1;
    }
    if (hint < n->count && n->sizes[hint] == size &&
        memcmp(n->texts[hint], start, (size_t)size) == 0) {
        return hint;
    }
    for (unsigned slot = key_hash(start, size) & n->mask; n->slots[slot] != 0;
         slot = (slot + 1) & n->mask) {
        Py_ssize_t i = n->slots[slot] - 1;
        if (n->sizes[i] == size && memcmp(n->texts[i], start, (size_t)size) == 0) {
            return i;
        }
    }
    return -1;
}

/* Whether rule r holds on a TypedDict's built value (values[i]: key i's, where seen): 1, 0, or
 * -1 where Python would raise (a key read that is absent, values that do not compare, an
 * unhashable value looked up in a set). Read left to right, as Python does; an error makes the
 * whole rule fail, even under a `not`. */
static int
holds(const rule *r, uint64_t seen, PyObject *const *values)
{
    int present = r->op < R_HAS || (seen >> r->field) & 1, result;
    switch (r->op) {
    case R_AND:
    case R_OR:
        for (Py_ssize_t i = 0; i < r->count; i++) {
            result = holds(&r->children[i], seen, values);
            if (result < 0 || result != (r->op == R_AND)) {
                return result;
            }
        }
        return r->op == R_AND;
    case R_NOT:
        result = holds(r->children, seen, values);
        return result < 0 ? -1 : !result;
    case R_LEN:
        return bits_in(seen) == r->count;
    case R_HAS:
        return present;
    case R_NONE:
        return !present || values[r->field] == Py_None;
    case R_TRUTHY:
        result = present ? PyObject_IsTrue(values[r->field]) : 0;
        break;
    case R_IN:
        result = present ? PySet_Contains(r->object, values[r->field]) : -1;
        break;
    case R_TYPE:
        return present ? (PyObject *)Py_TYPE(values[r->field]) == r->object : -1;
    default: /* R_CMP */
        if (!present || !((seen >> r->other) & 1)) {
            return -1;
        }
        result = PyObject_RichCompareBool(values[r->field], values[r->other], (int)r->count);
    }
    if (result < 0) {
        PyErr_Clear();
    }
    return result;
}

/* Where a TypedDict's reading stands. */
typedef struct {
    const node *n;
    uint64_t seen;                /* bit i: key i was read */
    Py_ssize_t hint;              /* the key declared after the last one read */
    PyObject *values[MAX_FIELDS]; /* values[i]: key i's, where seen (borrowed from the dict) */
} fields_read;

/* A member of a TypedDict: a declared key, once. */
static int
read_field(reader *r, void *state, PyObject *dict, const unsigned char *start, Py_ssize_t size,
           int escaped)
{
    fields_read *read = state;
    Py_ssize_t field = field_of(read->n, start, size, escaped, read->hint);
    if (field < 0 || read->seen & ((uint64_t)1 << field)) { /* undeclared, or given twice */
        return -1;
    }
    read->seen |= (uint64_t)1 << field;
    read->hint = field + 1;
    PyObject *value = read_value(r, read->n->children[field]);
    int stored = value == NULL ? -1 : PyDict_SetItem(dict, read->n->objects[field], value);
    read->values[field] = value;
    Py_XDECREF(value);
    return stored;
}

static PyObject *
read_fields(reader *r, const node *n)
{
    fields_read read; /* values left unset: read only where seen */
    read.n = n;
    read.seen = 0;
    read.hint = 0;
    PyObject *dict = read_object(r, read_field, &read);
    if (dict != NULL && (read.seen & n->required) != n->required) {
        Py_CLEAR(dict);
    }
    if (dict != NULL && n->rule != NULL && holds(n->rule, read.seen, read.values) != 1) {
        r->unchecked = 1;
    }
    return dict;
}

/* Any value, its token told (a number already scanned). */
static PyObject *
read_any(reader *r, enum token token, number *scanned)
{
    const unsigned char *start;
    Py_ssize_t size;
    int escaped;
    switch (token) {
    case T_OBJECT:
        return read_dict(r, NULL, -1, -1);
    case T_ARRAY:
        return read_list(r, NULL, -1, -1);
    case T_STRING:
        return scan_string(r, &start, &size, &escaped) < 0 ? NULL
                                                           : make_string(start, size, escaped);
    case T_INT:
        return scanned->digits <= 18 ? PyLong_FromLongLong(scanned->small) : big_int(scanned);
    case T_FLOAT:
        return make_float(scanned);
    case T_BOOL:
        if (take(r, "true", 4) == 0) {
            Py_RETURN_TRUE;
        }
        if (take(r, "false", 5) == 0) {
            Py_RETURN_FALSE;
        }
        return NULL;
    case T_NULL:
        if (take(r, "null", 4) == 0) {
            Py_RETURN_NONE;
        }
        return NULL;
    default:
        return NULL;
    }
}

static PyObject *read_as(reader *r, const node *n, enum token token, number *scanned);

/* The value at r->at if it is what n says (n NULL: any value). */
static PyObject *
read_value(reader *r, const node *n)
{
    number scanned;
    enum token token = token_at(r);
    if (token == T_NUMBER) { /* scanned once, here: a union's option depends on its kind */
        if (scan_number(r, &scanned) < 0) {
            return NULL;
        }
        token = scanned.is_float ? T_FLOAT : T_INT;
    }
    return read_as(r, n, token, &scanned);
}

/* The value at r->at, which starts as token (a number already scanned), if it is what n says. */
static PyObject *
read_as(reader *r, const node *n, enum token token, number *scanned)
{
    if (n == NULL || n->kind == K_ANY) {
        return read_any(r, token, scanned);
    }
    const unsigned char *start;
    Py_ssize_t size;
    int escaped;
    switch (n->kind) {
    case K_UNION:
        n = token < TOKEN_KINDS ? n->children[token] : NULL;
        return n == NULL ? NULL : read_as(r, n, token, scanned);
    case K_CHECK:
        r->unchecked = 1;
        return read_as(r, n->children[0], token, scanned);
    case K_NONE:
        return token == T_NULL ? read_any(r, token, scanned) : NULL;
    case K_BOOL:
        return token == T_BOOL ? read_any(r, token, scanned) : NULL;
    case K_STR: {
        if (token != T_STRING || scan_string(r, &start, &size, &escaped) < 0) {
            return NULL;
        }
        PyObject *text = make_string(start, size, escaped);
        if (text != NULL && (n->min_len >= 0 || n->max_len >= 0)) {
            Py_ssize_t length = PyUnicode_GetLength(text);
            if ((n->min_len >= 0 && length < n->min_len) ||
                (n->max_len >= 0 && length > n->max_len)) {
                Py_DECREF(text);
                return NULL;
            }
        }
        return text;
    }
    case K_STRS:
        if (token != T_STRING || scan_string(r, &start, &size, &escaped) < 0 || escaped) {
            return NULL; /* a choice written with escapes: rare, left to the untyped parse */
        }
        for (Py_ssize_t i = 0; i < n->count; i++) {
            if (n->sizes[i] == size && memcmp(n->texts[i], start, (size_t)size) == 0) {
                Py_INCREF(n->objects[i]);
                return n->objects[i];
            }
        }
        return NULL;
    case K_INT:
    case K_INTS:
        if (token != T_INT) {
            return NULL;
        }
        if (scanned->digits > 18) { /* beyond the bounds and choices, which are 64-bit */
            return n->kind == K_INT && !n->has_lo && !n->has_hi ? big_int(scanned) : NULL;
        }
        if (n->kind == K_INTS) {
            for (Py_ssize_t i = 0; i < n->count; i++) {
                if (n->ints[i] == scanned->small) {
                    return PyLong_FromLongLong(scanned->small);
                }
            }
            return NULL;
        }
        if ((n->has_lo && scanned->small < n->int_lo) || (n->has_hi && scanned->small > n->int_hi)) {
            return NULL;
        }
        return PyLong_FromLongLong(scanned->small);
    case K_FLOAT: {
        if (token != T_FLOAT) {
            return NULL;
        }
        PyObject *made = make_float(scanned);
        double number = scanned->value;
        if (made != NULL && ((n->has_lo && (n->lo_open ? number <= n->lo : number < n->lo)) ||
                             (n->has_hi && (n->hi_open ? number >= n->hi : number > n->hi)))) {
            Py_DECREF(made);
            return NULL;
        }
        return made;
    }
    case K_LIST:
        return token == T_ARRAY ? read_list(r, n->children[0], n->min_len, n->max_len) : NULL;
    case K_DICT:
        return token == T_OBJECT ? read_dict(r, n->children[0], n->min_len, n->max_len) : NULL;
    case K_FIELDS:
        return token == T_OBJECT ? read_fields(r, n) : NULL;
    default:
        return NULL;
    }
}

int
json_text(PyObject *data, const char *caller, const char **text, Py_ssize_t *size)
{
    if (PyBytes_CheckExact(data)) {
        return PyBytes_AsStringAndSize(data, (char **)text, size);
    }
    if (PyUnicode_CheckExact(data)) {
        /* The interpreter keeps this UTF-8 copy on the str, as msgspec's decode does. */
        *text = PyUnicode_AsUTF8AndSize(data, size);
        return *text == NULL ? -1 : 0;
    }
    PyErr_Format(PyExc_TypeError, "%s() takes bytes or str data", caller);
    return -1;
}

PyObject *
typed_decode(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "typed_decode(program, data, max_depth) takes 3 arguments");
        return NULL;
    }
    node *root = PyCapsule_GetPointer(args[0], CAPSULE_NAME);
    int max_depth = PyLong_AsLong(args[2]);
    if (root == NULL || (max_depth == -1 && PyErr_Occurred())) {
        return NULL;
    }
    const char *text;
    Py_ssize_t size;
    if (json_text(args[1], "typed_decode", &text, &size) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeError)) {
            return NULL;
        }
        PyErr_Clear(); /* a str with a lone surrogate: no UTF-8, no JSON text */
        Py_RETURN_NOTIMPLEMENTED;
    }
    reader r = {(const unsigned char *)text, (const unsigned char *)text + size, 0, max_depth, 0};
    PyObject *value = read_value(&r, root);
    if (value != NULL) {
        skip_space(&r);
        if (r.at == r.end) {
            if (!r.unchecked) {
                return value;
            }
            PyObject *unchecked = PyTuple_Pack(1, value);
            Py_DECREF(value);
            return unchecked;
        }
        Py_DECREF(value);
    }
    PyErr_Clear(); /* whatever went wrong, the untyped parse decides and says why */
    Py_RETURN_NOTIMPLEMENTED;
}
