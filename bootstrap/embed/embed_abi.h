/* The boundary between the launcher executable and its embed plugin.
 *
 * The executable never links libpython: it loads the env's own libpython at run time with
 * RTLD_GLOBAL, then loads the plugin (compiled against the Python headers, linked against no
 * libpython, like any extension module), whose Python symbols bind to the library just loaded.
 * Only plain C types cross this boundary. */
#ifndef ALLTALK_EMBED_ABI_H
#define ALLTALK_EMBED_ABI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ALLTALK_EMBED_ABI_VERSION 3
#define ALLTALK_EMBED_ENTRY "alltalk_embed_run"

/* Explains a failure after its traceback (the launcher's rules, shared with the doctor): an
 * uncaught exception, or one the app logged (flags & ALLTALK_EXPLAIN_LOGGED: then nothing is said
 * when nothing is known). An empty exception_type means: take it from the traceback text. Writes
 * "KEY\nTEXT" to `out` (NUL-terminated; KEY, what "once per process" counts, may be empty) and
 * returns its length; 0 = nothing to say. */
#define ALLTALK_EXPLAIN_LOGGED 1
typedef size_t (*alltalk_explain_fn)(const char* exception_type, const char* message,
                                     const char* traceback, int flags, char* out, size_t out_size);

typedef struct alltalk_embed_request {
    int abi_version;
    /* The interpreter's command line, parsed as python parses it; argv[0] is the env's python. */
    int argc;
    const char* const* argv;
    /* The env's python executable: getpath finds a venv's pyvenv.cfg next to it. */
    const char* program_name;
    /* PYTHONHOME for a prefix env; NULL or "" for a venv. */
    const char* home;
    /* The launcher version, for alltalk_launch.__version__. */
    const char* launcher_version;
    /* alltalk_launch.plan(): keys and values (values "" become None). */
    int plan_size;
    const char* const* plan_keys;
    const char* const* plan_values;
    int verbose;
    /* alltalk_launch._explain(); may be NULL. */
    alltalk_explain_fn explain;
} alltalk_embed_request;

/* Returns the interpreter's exit status, or -1 with a non-empty `error` (the reason) when Python
 * could not be started. A status can be negative (sys.exit(-1), Windows' STATUS_CONTROL_C_EXIT):
 * only the error text marks a failed start. */
typedef int (*alltalk_embed_run_fn)(const alltalk_embed_request* request, char* error,
                                    size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
