"""ctypes declarations of libfutured, the C client library of futured.

The library is found, in order, at $FUTURED_LIBRARY (the tests point it at
the uninstalled build), as "libfutured.so.0" through the dynamic linker's
search path, and by ctypes.util.find_library("futured").

Every foreign call goes through ctypes.CDLL, which releases the GIL for
the duration of the call: a thread blocked in fut_wait() never stops the
other Python threads, and the library's own locks are never held while
Python code runs (done-callbacks run with no library lock held).
"""

import ctypes
import ctypes.util
import os

__all__ = ["lib", "DONE_CB", "load_error"]

FUT_OK = 0
FUT_ETIMEDOUT = -1
FUT_ENOTFOUND = -2
FUT_EPERM = -3
FUT_EPROTO = -4
FUT_ECONN = -5
FUT_EINVAL = -6
FUT_ENOMEM = -7
FUT_ENOTREADY = -8
FUT_EHANDLER = -9
FUT_EFULL = -10
FUT_ETOOBIG = -11
FUT_ESHUTDOWN = -12

# enum fut_kind
FUT_ASYNC, FUT_BLOCKING, FUT_CPU = 0, 1, 2
# enum fut_state
(FUT_WAITING, FUT_QUEUED, FUT_RUNNING, FUT_SUCCEEDED, FUT_FAILED,
 FUT_CANCELLED, FUT_TIMED_OUT) = range(7)


def _candidates():
    env = os.environ.get("FUTURED_LIBRARY")
    if env:
        yield env
    yield "libfutured.so.0"
    found = ctypes.util.find_library("futured")
    if found:
        yield found


def _load():
    errors = []
    for name in _candidates():
        try:
            return ctypes.CDLL(name, use_errno=True), None
        except OSError as e:
            errors.append("%s: %s" % (name, e))
    return None, "; ".join(errors)


lib, load_error = _load()

c_client_p = ctypes.c_void_p
c_spec_p = ctypes.c_void_p
c_future_p = ctypes.c_void_p

DONE_CB = ctypes.CFUNCTYPE(None, c_future_p, ctypes.c_void_p)

_PROTOS = {
    "fut_strerror": (ctypes.c_char_p, [ctypes.c_int]),
    "fut_connect": (c_client_p, [ctypes.c_char_p]),
    "fut_close": (None, [c_client_p]),
    "fut_client_error": (ctypes.c_char_p, [c_client_p]),
    "fut_client_errcode": (ctypes.c_int, [c_client_p]),
    "fut_spec_new": (c_spec_p, [ctypes.c_char_p]),
    "fut_spec_free": (None, [c_spec_p]),
    "fut_spec_kind": (ctypes.c_int, [c_spec_p, ctypes.c_int]),
    "fut_spec_payload": (ctypes.c_int,
                         [c_spec_p, ctypes.c_char_p, ctypes.c_size_t]),
    "fut_spec_arg": (ctypes.c_int, [c_spec_p, ctypes.c_char_p]),
    "fut_spec_timeout_ms": (ctypes.c_int, [c_spec_p, ctypes.c_int64]),
    "fut_spec_deadline_ms": (ctypes.c_int, [c_spec_p, ctypes.c_int64]),
    "fut_spec_priority": (ctypes.c_int, [c_spec_p, ctypes.c_int]),
    "fut_spec_retries": (ctypes.c_int, [c_spec_p, ctypes.c_uint]),
    "fut_spec_name": (ctypes.c_int, [c_spec_p, ctypes.c_char_p]),
    "fut_spec_ctx": (ctypes.c_int,
                     [c_spec_p, ctypes.c_char_p, ctypes.c_char_p]),
    "fut_spec_after": (ctypes.c_int, [c_spec_p, ctypes.c_uint64]),
    "fut_spec_input_from": (ctypes.c_int, [c_spec_p, ctypes.c_uint64]),
    "fut_spec_group": (ctypes.c_int, [c_spec_p, ctypes.c_char_p]),
    "fut_spec_cwd": (ctypes.c_int, [c_spec_p, ctypes.c_char_p]),
    "fut_spec_env": (ctypes.c_int,
                     [c_spec_p, ctypes.c_char_p, ctypes.c_char_p]),
    "fut_submit": (c_future_p, [c_client_p, c_spec_p]),
    "fut_attach": (c_future_p, [c_client_p, ctypes.c_uint64]),
    "fut_id": (ctypes.c_uint64, [c_future_p]),
    "fut_poll": (ctypes.c_int, [c_future_p]),
    "fut_wait": (ctypes.c_int, [c_future_p, ctypes.c_int64]),
    "fut_wait_all": (ctypes.c_int, [ctypes.POINTER(c_future_p),
                                    ctypes.c_size_t, ctypes.c_int64]),
    "fut_wait_any": (ctypes.c_int, [ctypes.POINTER(c_future_p),
                                    ctypes.c_size_t, ctypes.c_int64,
                                    ctypes.POINTER(ctypes.c_size_t)]),
    "fut_cancel": (ctypes.c_int, [c_future_p]),
    "fut_output": (ctypes.c_void_p,
                   [c_future_p, ctypes.POINTER(ctypes.c_size_t)]),
    "fut_error": (ctypes.c_char_p, [c_future_p]),
    "fut_exit_status": (ctypes.c_int, [c_future_p]),
    "fut_signal": (ctypes.c_int, [c_future_p]),
    "fut_stderr": (ctypes.c_void_p,
                   [c_future_p, ctypes.POINTER(ctypes.c_size_t)]),
    "fut_on_done": (None, [c_future_p, DONE_CB, ctypes.c_void_p]),
    "fut_future_free": (None, [c_future_p]),
    "fut_client_fd": (ctypes.c_int, [c_client_p]),
    "fut_client_dispatch": (ctypes.c_int, [c_client_p]),
}

if lib is not None:
    for _name, (_res, _args) in _PROTOS.items():
        _fn = getattr(lib, _name)
        _fn.restype = _res
        _fn.argtypes = _args


def strerror(code):
    """The name libfutured gives to a FUT_E* code."""
    if lib is None:
        return "error %d" % code
    return lib.fut_strerror(code).decode("utf-8", "replace")
