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

__all__ = ["lib", "DONE_CB", "CANCEL_CB", "load_error", "has"]

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
FUT_EINTERNAL = -13

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
c_info_p = ctypes.c_void_p
c_infos_p = ctypes.c_void_p
c_obj_p = ctypes.c_void_p
c_watch_p = ctypes.c_void_p
c_event_p = ctypes.c_void_p

# enum fut_field
(FUT_FIELD_KIND, FUT_FIELD_PROGRESS, FUT_FIELD_EXIT_STATUS, FUT_FIELD_SIGNAL,
 FUT_FIELD_OUTPUT, FUT_FIELD_OUTPUT_TRUNCATED, FUT_FIELD_STDERR,
 FUT_FIELD_SUBMITTED, FUT_FIELD_STARTED, FUT_FIELD_FINISHED,
 FUT_FIELD_ATTEMPTS, FUT_FIELD_RETRIES, FUT_FIELD_PARENT, FUT_FIELD_PRIORITY,
 FUT_FIELD_OUTPUT_SIZE) = range(15)
# enum fut_stat
(FUT_STAT_WAITING, FUT_STAT_QUEUED, FUT_STAT_RUNNING, FUT_STAT_SUCCEEDED,
 FUT_STAT_FAILED, FUT_STAT_CANCELLED, FUT_STAT_TIMED_OUT, FUT_STAT_POOL_SIZE,
 FUT_STAT_POOL_BUSY) = range(9)
FUT_WATCH_PROGRESS = 0x1
FUT_LOGS_STDERR = 0x1
FUT_LOGS_FOLLOW = 0x2
FUT_LOGS_EOF = 0x10
FUT_LOGS_TRUNCATED = 0x20

c_worker_p = ctypes.c_void_p
c_task_p = ctypes.c_void_p
c_group_p = ctypes.c_void_p
c_pool_p = ctypes.c_void_p

DONE_CB = ctypes.CFUNCTYPE(None, c_future_p, ctypes.c_void_p)
CANCEL_CB = ctypes.CFUNCTYPE(None, c_task_p, ctypes.c_void_p)

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
    "fut_submit_all": (ctypes.c_int, [c_client_p, ctypes.POINTER(c_spec_p),
                                      ctypes.c_size_t,
                                      ctypes.POINTER(c_future_p)]),
    "fut_attach": (c_future_p, [c_client_p, ctypes.c_uint64]),
    "fut_id": (ctypes.c_uint64, [c_future_p]),
    "fut_poll": (ctypes.c_int, [c_future_p]),
    "fut_progress": (ctypes.c_double,
                     [c_future_p, ctypes.c_char_p, ctypes.c_size_t]),
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
    "fut_state_name": (ctypes.c_char_p, [ctypes.c_int]),
    "fut_version": (ctypes.c_char_p, []),
    "fut_kind_name": (ctypes.c_char_p, [ctypes.c_int]),
    "fut_status": (ctypes.c_int, [c_client_p, ctypes.c_uint64,
                                  ctypes.POINTER(c_info_p)]),
    "fut_result": (ctypes.c_int, [c_client_p, ctypes.c_uint64,
                                  ctypes.POINTER(c_info_p)]),
    "fut_info_free": (None, [c_info_p]),
    "fut_info_has": (ctypes.c_int, [c_info_p, ctypes.c_int]),
    "fut_info_id": (ctypes.c_uint64, [c_info_p]),
    "fut_info_state": (ctypes.c_int, [c_info_p]),
    "fut_info_kind": (ctypes.c_int, [c_info_p]),
    "fut_info_handler": (ctypes.c_char_p, [c_info_p]),
    "fut_info_name": (ctypes.c_char_p, [c_info_p]),
    "fut_info_group": (ctypes.c_char_p, [c_info_p]),
    "fut_info_progress": (ctypes.c_double, [c_info_p]),
    "fut_info_progress_msg": (ctypes.c_char_p, [c_info_p]),
    "fut_info_exit_status": (ctypes.c_int, [c_info_p]),
    "fut_info_signal": (ctypes.c_int, [c_info_p]),
    "fut_info_error": (ctypes.c_char_p, [c_info_p]),
    "fut_info_ended": (ctypes.c_char_p, [c_info_p]),
    "fut_info_output": (ctypes.c_void_p,
                        [c_info_p, ctypes.POINTER(ctypes.c_size_t)]),
    "fut_info_output_truncated": (ctypes.c_int, [c_info_p]),
    "fut_info_stderr": (ctypes.c_void_p,
                        [c_info_p, ctypes.POINTER(ctypes.c_size_t)]),
    "fut_info_submitted_ms": (ctypes.c_int64, [c_info_p]),
    "fut_info_started_ms": (ctypes.c_int64, [c_info_p]),
    "fut_info_finished_ms": (ctypes.c_int64, [c_info_p]),
    "fut_info_attempts": (ctypes.c_uint, [c_info_p]),
    "fut_info_retries": (ctypes.c_uint, [c_info_p]),
    "fut_info_parent": (ctypes.c_uint64, [c_info_p]),
    "fut_info_priority": (ctypes.c_int, [c_info_p]),
    "fut_info_nargs": (ctypes.c_size_t, [c_info_p]),
    "fut_info_arg": (ctypes.c_char_p, [c_info_p, ctypes.c_size_t]),
    "fut_info_nctx": (ctypes.c_size_t, [c_info_p]),
    "fut_info_ctx": (ctypes.c_char_p, [c_info_p, ctypes.c_size_t,
                                       ctypes.POINTER(ctypes.c_char_p)]),
    "fut_list": (ctypes.c_int, [c_client_p, ctypes.c_int, ctypes.c_char_p,
                                ctypes.POINTER(c_infos_p)]),
    "fut_infos_count": (ctypes.c_size_t, [c_infos_p]),
    "fut_infos_at": (c_info_p, [c_infos_p, ctypes.c_size_t]),
    "fut_infos_free": (None, [c_infos_p]),
    "fut_handlers": (ctypes.c_int, [c_client_p, ctypes.POINTER(c_obj_p)]),
    "fut_handlers_count": (ctypes.c_size_t, [c_obj_p]),
    "fut_handlers_name": (ctypes.c_char_p, [c_obj_p, ctypes.c_size_t]),
    "fut_handlers_description": (ctypes.c_char_p,
                                 [c_obj_p, ctypes.c_size_t]),
    "fut_handlers_kinds": (ctypes.c_uint, [c_obj_p, ctypes.c_size_t]),
    "fut_handlers_default_kind": (ctypes.c_int, [c_obj_p, ctypes.c_size_t]),
    "fut_handlers_free": (None, [c_obj_p]),
    "fut_stats": (ctypes.c_int, [c_client_p, ctypes.POINTER(c_obj_p)]),
    "fut_stats_uptime_ms": (ctypes.c_int64, [c_obj_p]),
    "fut_stats_jobs_total": (ctypes.c_uint64, [c_obj_p]),
    "fut_stats_connections": (ctypes.c_uint, [c_obj_p]),
    "fut_stats_server_version": (ctypes.c_char_p, [c_obj_p]),
    "fut_stats_nkinds": (ctypes.c_size_t, [c_obj_p]),
    "fut_stats_kind": (ctypes.c_int, [c_obj_p, ctypes.c_size_t]),
    "fut_stats_get": (ctypes.c_uint64, [c_obj_p, ctypes.c_size_t,
                                        ctypes.c_int]),
    "fut_stats_free": (None, [c_obj_p]),
    "fut_metrics": (ctypes.c_int, [c_client_p, ctypes.POINTER(c_obj_p)]),
    "fut_metrics_text": (ctypes.c_char_p, [c_obj_p]),
    "fut_metrics_free": (None, [c_obj_p]),
    "fut_ping": (ctypes.c_int, [c_client_p, ctypes.c_char_p, ctypes.c_size_t,
                                ctypes.POINTER(ctypes.c_uint)]),
    "fut_watch_open": (c_watch_p, [c_client_p, ctypes.c_uint64,
                                   ctypes.c_uint]),
    "fut_watch_next": (ctypes.c_int, [c_watch_p, ctypes.c_int64,
                                      ctypes.POINTER(c_event_p)]),
    "fut_watch_close": (None, [c_watch_p]),
    "fut_event_id": (ctypes.c_uint64, [c_event_p]),
    "fut_event_info": (c_info_p, [c_event_p]),
    "fut_event_output": (ctypes.c_void_p,
                         [c_event_p, ctypes.POINTER(ctypes.c_size_t)]),
    "fut_event_final": (ctypes.c_int, [c_event_p]),
    "fut_event_free": (None, [c_event_p]),
    "fut_logs_read": (ctypes.c_int, [c_client_p, ctypes.c_uint64,
                                     ctypes.c_uint, ctypes.c_uint64,
                                     ctypes.c_void_p, ctypes.c_size_t,
                                     ctypes.POINTER(ctypes.c_size_t)]),
}

# Calls of later libfutured versions: the binding runs without them and
# says which is missing when a feature needs one (has()).
_OPTIONAL = {
    "fut_spec_parent": (ctypes.c_int, [c_spec_p, ctypes.c_uint64]),
    "fut_spec_engine": (ctypes.c_int, [c_spec_p, ctypes.c_char_p]),
    "fut_group_set": (ctypes.c_int, [c_client_p, ctypes.c_char_p,
                                     ctypes.c_int, ctypes.c_int64,
                                     ctypes.POINTER(c_group_p)]),
    "fut_group_name": (ctypes.c_char_p, [c_group_p]),
    "fut_group_fail_fast": (ctypes.c_int, [c_group_p]),
    "fut_group_parallel": (ctypes.c_uint, [c_group_p]),
    "fut_group_created": (ctypes.c_int, [c_group_p]),
    "fut_group_count": (ctypes.c_uint64, [c_group_p, ctypes.c_int]),
    "fut_group_free": (None, [c_group_p]),
    "fut_pool_request": (ctypes.c_int, [
        c_client_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t,
        ctypes.c_uint, ctypes.c_uint, ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t, ctypes.c_char_p,
        ctypes.POINTER(c_pool_p)]),
    "fut_pool_name": (ctypes.c_char_p, [c_pool_p]),
    "fut_pool_created": (ctypes.c_int, [c_pool_p]),
    "fut_pool_nhandlers": (ctypes.c_size_t, [c_pool_p]),
    "fut_pool_handler": (ctypes.c_char_p, [c_pool_p, ctypes.c_size_t]),
    "fut_pool_free": (None, [c_pool_p]),
    "fut_stats_npools": (ctypes.c_size_t, [c_obj_p]),
    "fut_stats_pool_name": (ctypes.c_char_p, [c_obj_p, ctypes.c_size_t]),
    "fut_stats_pool_supervised": (ctypes.c_int, [c_obj_p, ctypes.c_size_t]),
    "fut_stats_pool_get": (ctypes.c_uint, [c_obj_p, ctypes.c_size_t,
                                           ctypes.c_int]),
    "fut_stats_pool_state": (ctypes.c_char_p, [c_obj_p, ctypes.c_size_t]),
    "fut_stats_pool_last_failure": (ctypes.c_char_p,
                                    [c_obj_p, ctypes.c_size_t]),
    "fut_stats_pool_last_exit": (ctypes.c_int, [c_obj_p, ctypes.c_size_t]),
    "fut_stats_pool_last_signal": (ctypes.c_int,
                                   [c_obj_p, ctypes.c_size_t]),
    "fut_stats_pool_last_stderr": (ctypes.c_char_p,
                                   [c_obj_p, ctypes.c_size_t]),
    "fut_stats_pool_last_ago_ms": (ctypes.c_int64,
                                   [c_obj_p, ctypes.c_size_t]),
    "fut_stats_pool_respawn_ms": (ctypes.c_int64,
                                  [c_obj_p, ctypes.c_size_t]),
    # The worker side (fut_worker_*, fut_task_*).
    "fut_worker_new": (c_worker_p, [ctypes.c_char_p]),
    "fut_worker_error": (ctypes.c_char_p, [c_worker_p]),
    "fut_worker_handler": (ctypes.c_int, [c_worker_p, ctypes.c_char_p,
                                          ctypes.c_uint, ctypes.c_int,
                                          ctypes.c_char_p]),
    "fut_worker_concurrency": (ctypes.c_int, [c_worker_p, ctypes.c_uint]),
    "fut_worker_name": (ctypes.c_int, [c_worker_p, ctypes.c_char_p]),
    "fut_worker_pool": (ctypes.c_int, [c_worker_p, ctypes.c_char_p]),
    "fut_worker_register": (ctypes.c_int, [c_worker_p]),
    "fut_worker_fd": (ctypes.c_int, [c_worker_p]),
    "fut_worker_next": (ctypes.c_int, [c_worker_p, ctypes.c_int64,
                                       ctypes.POINTER(c_task_p)]),
    "fut_worker_on_cancel": (None, [c_worker_p, CANCEL_CB,
                                    ctypes.c_void_p]),
    "fut_worker_close": (None, [c_worker_p]),
    "fut_worker_client": (c_client_p, [c_worker_p]),
    "fut_task_job_id": (ctypes.c_uint64, [c_task_p]),
    "fut_task_attempt": (ctypes.c_uint, [c_task_p]),
    "fut_task_handler": (ctypes.c_char_p, [c_task_p]),
    "fut_task_kind": (ctypes.c_int, [c_task_p]),
    "fut_task_payload": (ctypes.c_void_p,
                         [c_task_p, ctypes.POINTER(ctypes.c_size_t)]),
    "fut_task_nargs": (ctypes.c_size_t, [c_task_p]),
    "fut_task_arg": (ctypes.c_char_p, [c_task_p, ctypes.c_size_t]),
    "fut_task_nctx": (ctypes.c_size_t, [c_task_p]),
    "fut_task_ctx": (ctypes.c_char_p, [c_task_p, ctypes.c_size_t,
                                       ctypes.POINTER(ctypes.c_char_p)]),
    "fut_task_deadline_ms": (ctypes.c_int64, [c_task_p]),
    "fut_task_cwd": (ctypes.c_char_p, [c_task_p]),
    "fut_task_cancelled": (ctypes.c_int, [c_task_p]),
    "fut_task_progress": (ctypes.c_int, [c_task_p, ctypes.c_double,
                                         ctypes.c_char_p]),
    "fut_task_output": (ctypes.c_int, [c_task_p, ctypes.c_char_p,
                                       ctypes.c_size_t]),
    "fut_task_stderr": (ctypes.c_int, [c_task_p, ctypes.c_char_p,
                                       ctypes.c_size_t]),
    "fut_task_succeed": (ctypes.c_int, [c_task_p, ctypes.c_char_p,
                                        ctypes.c_size_t]),
    "fut_task_fail": (ctypes.c_int, [c_task_p, ctypes.c_char_p,
                                     ctypes.c_char_p, ctypes.c_char_p]),
}

if lib is not None:
    for _name, (_res, _args) in _PROTOS.items():
        _fn = getattr(lib, _name)
        _fn.restype = _res
        _fn.argtypes = _args
    for _name, (_res, _args) in _OPTIONAL.items():
        _fn = getattr(lib, _name, None)
        if _fn is not None:
            _fn.restype = _res
            _fn.argtypes = _args


def has(name):
    """True if the loaded libfutured has the call name."""
    return lib is not None and hasattr(lib, name)


def strerror(code):
    """The name libfutured gives to a FUT_E* code."""
    if lib is None:
        return "error %d" % code
    return lib.fut_strerror(code).decode("utf-8", "replace")
