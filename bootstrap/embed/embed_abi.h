/* What the launcher's start/ layer hands to the embed runner (embed/runner.hpp), which runs inside
 * the env's interpreter: the launcher links no libpython, it loads the env's own at run time and
 * binds the few functions the runner calls. Only plain C types cross this boundary; the explain
 * callback is called from Python through ctypes. */
#ifndef ALLTALK_EMBED_ABI_H
#define ALLTALK_EMBED_ABI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Explains a failure after its traceback (the launcher's rules, shared with the doctor): an
 * uncaught exception, or one the app logged (flags & ALLTALK_EXPLAIN_LOGGED: then nothing is said
 * when nothing is known). An empty exception_type means: take it from the traceback text. Writes
 * "KEY\nTEXT" to `out` (NUL-terminated; KEY, what "once per process" counts, may be empty) and
 * returns its length; 0 = nothing to say. */
#define ALLTALK_EXPLAIN_LOGGED 1
/* With LOGGED: a logged line without a traceback (logging.error(f"... {e}")); rules match it on
 * their patterns alone. */
#define ALLTALK_EXPLAIN_LINE 2
typedef size_t (*alltalk_explain_fn)(const char* exception_type, const char* message,
                                     const char* traceback, int flags, char* out, size_t out_size);

typedef struct alltalk_embed_request {
    /* The interpreter's command line, parsed as python parses it; argv[0] is the env's python. */
    int argc;
    const char* const* argv;
    /* The env's python executable (argv[0] when argv is empty). */
    const char* program_name;
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

#ifdef __cplusplus
}
#endif

#endif
