/* SPDX-License-Identifier: MIT */
/* nctop._fast: the two hot paths of the Python package in C, so that an instrumented call
 * costs a C call into libnctop instead of a ctypes call and a Python frame.
 *
 * It links nothing: bind() hands it the addresses of nctop_span_begin and nctop_span_end
 * taken from the library the package loaded with ctypes, so both paths publish through one
 * libnctop instance (the one $NCTOP_LIB or the search chose). Without bind() every call
 * here is a no-op.
 *
 * span_begin(id), span_end(id): the SDK calls (METH_O: one argument, no tuple).
 * Call(site, fwd, prev): a callable that begins site.id, calls fwd with its arguments and ends
 * the span, keeping the package's per-thread stack of open spans as the Python version does
 * (push an entry; on return pop it if it is on top, else let the package's _close unwind; on
 * an exception call _close and re-raise). The entry is the Call itself, whose `id` is site.id:
 * the package ends an entry by its id, and the Call is already in the cache. Subclassable
 * (nctop.torch's _Wrapped adds copying rules).
 *
 * A module call runs between tensor kernels that have evicted the caches, so what an
 * instrumented call costs is mostly the cache lines it touches, not its instructions. The
 * call therefore avoids the generic machinery where it can: the thread's stack comes from a
 * one-entry cache keyed by the thread state (under the GIL one thread runs at a time) instead
 * of a threading.local lookup; a bound-method forward is called as its function with the
 * module prepended (no method object on the way); the pop is a size change. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <stdint.h>

/* Python 3.8 has these under other names, or not at all. */
#if PY_VERSION_HEX < 0x03090000
#define PyObject_CallNoArgs(f) PyObject_CallObject((f), NULL)
#define PyObject_CallOneArg(f, a) PyObject_CallFunctionObjArgs((f), (a), NULL)
#define PyObject_Vectorcall _PyObject_Vectorcall
#define Py_SET_SIZE(o, n) (Py_SIZE(o) = (n))
#endif

typedef void (*fast_span_fn)(uint32_t name_id);

static fast_span_fn fast_begin, fast_end;
static PyObject *fast_tls;   /* the package's threading.local */
static PyObject *fast_stack; /* its _stack(): this thread's list, created on first use */
static PyObject *fast_close; /* its _close(site) */
static PyObject *fast_str_stack, *fast_str_id;

/* The last thread's stack of open spans: valid for the thread state `ts` with unique id
 * `ts_id` (a state freed and another allocated at its address has another id), until bind()
 * is called again. It holds a reference so that the list stays valid whatever the package
 * does with its threading.local; the entry of a finished thread is released at the next
 * miss. */
static struct {
    PyThreadState *ts;
    uint64_t ts_id;
    PyObject *list;
} fast_last;

/* Positional arguments of a forward called as function(module, *args) without a tuple. */
#define FAST_MAX_ARGS 8

/* An id as libnctop takes it; -1 with an exception set when o is not one. */
static int fast_id(PyObject *o, uint32_t *out)
{
    unsigned long v = PyLong_AsUnsignedLong(o);

    if (v == (unsigned long)-1 && PyErr_Occurred()) {
        return -1;
    }
    if (v > UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "nctop: a name id is a 32-bit unsigned integer");
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static PyObject *fast_span_begin(PyObject *mod, PyObject *arg)
{
    uint32_t id;

    (void)mod;
    if (fast_id(arg, &id) < 0) {
        return NULL;
    }
    if (fast_begin != NULL) {
        fast_begin(id);
    }
    Py_RETURN_NONE;
}

static PyObject *fast_span_end(PyObject *mod, PyObject *arg)
{
    uint32_t id;

    (void)mod;
    if (fast_id(arg, &id) < 0) {
        return NULL;
    }
    if (fast_end != NULL) {
        fast_end(id);
    }
    Py_RETURN_NONE;
}

/* bind(begin_address, end_address, tls, stack, close) */
static PyObject *fast_bind(PyObject *mod, PyObject *args)
{
    unsigned long long b, e;
    PyObject *tls, *stack, *close;

    (void)mod;
    if (!PyArg_ParseTuple(args, "KKOOO:bind", &b, &e, &tls, &stack, &close)) {
        return NULL;
    }
    if (b == 0 || e == 0 || !PyCallable_Check(stack) || !PyCallable_Check(close)) {
        PyErr_SetString(PyExc_ValueError, "nctop._fast.bind: null function or not callable");
        return NULL;
    }
    Py_INCREF(tls);
    Py_INCREF(stack);
    Py_INCREF(close);
    Py_XSETREF(fast_tls, tls);
    Py_XSETREF(fast_stack, stack);
    Py_XSETREF(fast_close, close);
    fast_last.ts = NULL;
    Py_CLEAR(fast_last.list);
    /* the addresses come from ctypes, which casts the library's symbols to integers */
    fast_begin = (fast_span_fn)(uintptr_t)b;
    fast_end = (fast_span_fn)(uintptr_t)e;
    Py_RETURN_NONE;
}

struct fast_call {
    PyObject_HEAD PyObject *site;
    PyObject *fwd;
    PyObject *prev;
    PyObject *func;  /* fwd's function when fwd is a bound method, else NULL */
    PyObject *self;  /* and the object it is bound to */
    unsigned int id; /* site.id, read once */
};

static int fast_call_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    struct fast_call *c = (struct fast_call *)self;
    PyObject *site, *fwd, *prev, *id;
    uint32_t v;

    if (kwds != NULL && PyDict_GET_SIZE(kwds) > 0) {
        PyErr_SetString(PyExc_TypeError, "nctop._fast.Call takes no keyword arguments");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "OOO:Call", &site, &fwd, &prev)) {
        return -1;
    }
    id = PyObject_GetAttr(site, fast_str_id);
    if (id == NULL) {
        return -1;
    }
    if (fast_id(id, &v) < 0) {
        Py_DECREF(id);
        return -1;
    }
    Py_DECREF(id);
    c->id = v;
    Py_INCREF(site);
    Py_INCREF(fwd);
    Py_INCREF(prev);
    Py_XSETREF(c->site, site);
    Py_XSETREF(c->fwd, fwd);
    Py_XSETREF(c->prev, prev);
    Py_CLEAR(c->func);
    Py_CLEAR(c->self);
    if (PyMethod_Check(fwd)) {
        c->func = PyMethod_GET_FUNCTION(fwd);
        c->self = PyMethod_GET_SELF(fwd);
        Py_INCREF(c->func);
        Py_INCREF(c->self);
    }
    return 0;
}

/* This thread's stack of open spans as the package keeps it (a new reference), or NULL with
 * an exception. */
static PyObject *fast_tls_stack(void)
{
    PyObject *st = PyObject_GetAttr(fast_tls, fast_str_stack);

    if (st != NULL) {
        return st;
    }
    if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
        return NULL;
    }
    PyErr_Clear();
    return PyObject_CallNoArgs(fast_stack);
}

/* The same, borrowed from the cache (the caller holds the GIL and must not let it go before
 * it takes a reference); NULL with an exception. */
static PyObject *fast_thread_stack(void)
{
    PyThreadState *ts = PyThreadState_Get();
    uint64_t ts_id = ts->id; /* PyThreadState_GetID(ts), without the call */
    PyObject *st;

    if (fast_last.ts == ts && fast_last.ts_id == ts_id && fast_last.list != NULL) {
        return fast_last.list;
    }
    st = fast_tls_stack();
    if (st == NULL) {
        return NULL;
    }
    if (!PyList_CheckExact(st)) {
        Py_DECREF(st);
        PyErr_SetString(PyExc_TypeError, "nctop: the span stack is not a list");
        return NULL;
    }
    fast_last.ts = ts;
    fast_last.ts_id = ts_id;
    Py_XSETREF(fast_last.list, st);
    return st;
}

/* fwd(*args, **kwargs); a bound method's function is called with its object prepended. */
static PyObject *fast_forward(struct fast_call *c, PyObject *args, PyObject *kwargs)
{
    PyObject *stack[FAST_MAX_ARGS + 1];
    Py_ssize_t n = PyTuple_GET_SIZE(args);

    if (c->func == NULL || n > FAST_MAX_ARGS || (kwargs != NULL && PyDict_GET_SIZE(kwargs) > 0)) {
        return PyObject_Call(c->fwd, args, kwargs);
    }
    stack[0] = c->self;
    for (Py_ssize_t i = 0; i < n; i++) {
        stack[i + 1] = PyTuple_GET_ITEM(args, i);
    }
    return PyObject_Vectorcall(c->func, stack, (size_t)n + 1, NULL);
}

/* The package's _close(entry): ends entry and whatever was left open above it. */
static int fast_unwind(PyObject *entry)
{
    PyObject *r = PyObject_CallOneArg(fast_close, entry);

    Py_XDECREF(r);
    return r != NULL ? 0 : -1;
}

static PyObject *fast_call_call(PyObject *self, PyObject *args, PyObject *kwargs)
{
    struct fast_call *c = (struct fast_call *)self;
    PyObject *st, *out, *exc_type, *exc_value, *exc_tb;
    Py_ssize_t n;

    if (c->fwd == NULL) {
        PyErr_SetString(PyExc_TypeError, "nctop: an uninitialised wrapper was called");
        return NULL;
    }
    if (fast_tls == NULL) { /* not bound: a plain call */
        return PyObject_Call(c->fwd, args, kwargs);
    }
    st = fast_thread_stack();
    if (st == NULL || PyList_Append(st, self) < 0) {
        return NULL;
    }
    Py_INCREF(st); /* forward may run other threads, which replace the cache entry */
    fast_begin(c->id);
    out = fast_forward(c, args, kwargs);
    if (out == NULL) {
        /* end what this call opened, then let the exception go on */
        PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
        if (fast_unwind(self) < 0) {
            PyErr_Clear();
        }
        PyErr_Restore(exc_type, exc_value, exc_tb);
        Py_DECREF(st);
        return NULL;
    }
    n = PyList_GET_SIZE(st);
    if (n > 0 && PyList_GET_ITEM(st, n - 1) == self) {
        /* list.pop() without the call: the size goes down, the allocation stays */
        Py_SET_SIZE(st, n - 1);
        Py_DECREF(self);
        fast_end(c->id);
    } else if (fast_unwind(self) < 0) {
        Py_DECREF(st);
        Py_DECREF(out);
        return NULL;
    }
    Py_DECREF(st);
    return out;
}

static int fast_call_traverse(PyObject *self, visitproc visit, void *arg)
{
    struct fast_call *c = (struct fast_call *)self;

    Py_VISIT(c->site);
    Py_VISIT(c->fwd);
    Py_VISIT(c->prev);
    Py_VISIT(c->func);
    Py_VISIT(c->self);
    return 0;
}

static int fast_call_clear(PyObject *self)
{
    struct fast_call *c = (struct fast_call *)self;

    Py_CLEAR(c->site);
    Py_CLEAR(c->fwd);
    Py_CLEAR(c->prev);
    Py_CLEAR(c->func);
    Py_CLEAR(c->self);
    return 0;
}

static void fast_call_dealloc(PyObject *self)
{
    PyObject_GC_UnTrack(self);
    fast_call_clear(self);
    Py_TYPE(self)->tp_free(self);
}

static PyMemberDef fast_call_members[] = {
    {"site", T_OBJECT_EX, offsetof(struct fast_call, site), READONLY, "the instrumented site"},
    {"fwd", T_OBJECT_EX, offsetof(struct fast_call, fwd), READONLY, "the forward it calls"},
    {"prev", T_OBJECT_EX, offsetof(struct fast_call, prev), READONLY,
     "what the module's __dict__ held under forward before"},
    {"id", T_UINT, offsetof(struct fast_call, id), READONLY, "site.id: the span's name id"},
    {NULL, 0, 0, 0, NULL},
};

/* clang-format off: the head macro ends in a comma that the formatter reads as an expression */
static PyTypeObject fast_call_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "nctop._fast.Call",
    .tp_basicsize = sizeof(struct fast_call),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Call(site, fwd, prev): calls fwd inside a span named site.id",
    .tp_new = PyType_GenericNew,
    .tp_init = fast_call_init,
    .tp_call = fast_call_call,
    .tp_traverse = fast_call_traverse,
    .tp_clear = fast_call_clear,
    .tp_dealloc = fast_call_dealloc,
    .tp_members = fast_call_members,
};
/* clang-format on */

static PyMethodDef fast_methods[] = {
    {"span_begin", fast_span_begin, METH_O, "span_begin(id): nctop_span_begin"},
    {"span_end", fast_span_end, METH_O, "span_end(id): nctop_span_end"},
    {"bind", fast_bind, METH_VARARGS,
     "bind(begin_address, end_address, tls, stack, close): publish through these"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fast_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "nctop._fast",
    .m_doc = "The Python package's hot paths in C.",
    .m_size = -1,
    .m_methods = fast_methods,
};

PyMODINIT_FUNC PyInit__fast(void);

PyMODINIT_FUNC PyInit__fast(void)
{
    PyObject *m;

    fast_str_stack = PyUnicode_InternFromString("stack");
    fast_str_id = PyUnicode_InternFromString("id");
    if (fast_str_stack == NULL || fast_str_id == NULL || PyType_Ready(&fast_call_type) < 0) {
        return NULL;
    }
    m = PyModule_Create(&fast_module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&fast_call_type);
    if (PyModule_AddObject(m, "Call", (PyObject *)&fast_call_type) < 0) {
        Py_DECREF(&fast_call_type);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
