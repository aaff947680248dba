/* wb-io.h: files are written to a temporary file beside the target and
 * renamed into place, so a crash or a full disk never leaves a half-written
 * file where the user's was. */
#pragma once

#include <stdio.h>
#include <glib.h>

G_BEGIN_DECLS

gboolean wb_file_write_atomic (const char   *path,
                               const void   *data,
                               gsize         length,
                               GError      **error);

/* For writers that stream: open a temp file beside @path, write through
 * the FILE*, then commit (fsync + rename) or abort (unlink). */
typedef struct _WbAtomicFile WbAtomicFile;

WbAtomicFile *wb_atomic_file_open   (const char   *path,
                                     GError      **error);
FILE         *wb_atomic_file_stream (WbAtomicFile *file);
gboolean      wb_atomic_file_commit (WbAtomicFile *file,
                                     GError      **error);
void          wb_atomic_file_abort  (WbAtomicFile *file);

/* Splits [0, n) over the machine's cores and calls @func on each range;
 * returns when all are done.  Used by the reference backends. */
typedef void (*WbRangeFunc) (gsize begin, gsize end, gpointer user_data);
void     wb_parallel_for      (gsize         n,
                               WbRangeFunc   func,
                               gpointer      user_data);
guint    wb_parallel_threads  (void);

G_END_DECLS
