#define G_LOG_DOMAIN "wb-io"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "wb-error.h"
#include "wb-io.h"

struct _WbAtomicFile
{
  char *path;
  char *tmp_path;
  FILE *stream;
  int   fd;
  /* Fault injection (tests): $WAVEBENCH_IO_FAIL_AFTER=N makes writes past
   * the first N bytes of every file fail with ENOSPC, as a full disk would. */
  gint64 fail_after;     /* -1: off */
  gint64 written;
  int    write_errno;
};

static gint64
io_fail_after (void)
{
  const char *env = g_getenv ("WAVEBENCH_IO_FAIL_AFTER");
  char *end = NULL;
  gint64 n;

  if (env == NULL || *env == '\0')
    return -1;
  n = g_ascii_strtoll (env, &end, 10);
  return end != env && *end == '\0' && n >= 0 ? n : -1;
}

static ssize_t
limited_write (void       *cookie,
               const char *buf,
               size_t      size)
{
  WbAtomicFile *file = cookie;
  size_t allowed = size;
  ssize_t n;

  if (file->written + (gint64) size > file->fail_after)
    allowed = file->written < file->fail_after ? (size_t) (file->fail_after - file->written) : 0;
  if (allowed == 0 && size > 0)
    {
      file->write_errno = ENOSPC;
      errno = ENOSPC;
      return -1;
    }
  n = write (file->fd, buf, allowed);
  if (n < 0)
    file->write_errno = errno;
  else
    file->written += n;
  /* A short write: stdio may give up without asking again, so say why now. */
  if (n >= 0 && (size_t) n < size)
    file->write_errno = errno = ENOSPC;
  return n;
}

static int
limited_close (void *cookie)
{
  WbAtomicFile *file = cookie;
  return close (file->fd);
}

static void
set_io_error (GError    **error,
              int         errsv,
              const char *what,
              const char *path)
{
  g_set_error (error, WB_ERROR, WB_ERROR_IO, "%s '%s': %s", what, path, g_strerror (errsv));
}

WbAtomicFile *
wb_atomic_file_open (const char  *path,
                     GError     **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;
  g_autofree char *tmpl = NULL;
  WbAtomicFile *file;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);

  dir = g_path_get_dirname (path);
  base = g_path_get_basename (path);
  tmpl = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  fd = g_mkstemp_full (tmpl, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0)
    {
      set_io_error (error, errno, "cannot create a temporary file beside", path);
      return NULL;
    }
  file = g_new0 (WbAtomicFile, 1);
  file->path = g_strdup (path);
  file->tmp_path = g_steal_pointer (&tmpl);
  file->fd = fd;
  file->fail_after = io_fail_after ();
  if (file->fail_after >= 0)
    {
      cookie_io_functions_t io = { NULL, limited_write, NULL, limited_close };
      file->stream = fopencookie (file, "wb", io);
    }
  else
    file->stream = fdopen (fd, "wb");
  if (file->stream == NULL)
    {
      int errsv = errno;
      close (fd);
      g_unlink (file->tmp_path);
      set_io_error (error, errsv, "cannot open a temporary file beside", path);
      g_free (file->path);
      g_free (file->tmp_path);
      g_free (file);
      return NULL;
    }
  return file;
}

FILE *
wb_atomic_file_stream (WbAtomicFile *file)
{
  return file->stream;
}

static void
atomic_file_free (WbAtomicFile *file)
{
  g_free (file->path);
  g_free (file->tmp_path);
  g_free (file);
}

void
wb_atomic_file_abort (WbAtomicFile *file)
{
  if (file == NULL)
    return;
  if (file->stream)
    fclose (file->stream);
  g_unlink (file->tmp_path);
  atomic_file_free (file);
}

gboolean
wb_atomic_file_commit (WbAtomicFile  *file,
                       GError       **error)
{
  int errsv = 0;

  /* A write error (full disk) may surface only at flush, fsync or close:
   * check all three before the rename, so the old file survives. */
  if (ferror (file->stream))
    errsv = file->write_errno ? file->write_errno : EIO;
  if (errsv == 0 && fflush (file->stream) != 0)
    errsv = file->write_errno ? file->write_errno : errno;
  if (errsv == 0 && fsync (file->fd) != 0 && errno != EINVAL)
    errsv = errno;
  if (fclose (file->stream) != 0 && errsv == 0)
    errsv = errno;
  file->stream = NULL;
  if (errsv == 0 && g_rename (file->tmp_path, file->path) != 0)
    errsv = errno;
  if (errsv != 0)
    {
      set_io_error (error, errsv, "cannot write", file->path);
      g_unlink (file->tmp_path);
      atomic_file_free (file);
      return FALSE;
    }
  atomic_file_free (file);
  return TRUE;
}

gboolean
wb_file_write_atomic (const char  *path,
                      const void  *data,
                      gsize        length,
                      GError     **error)
{
  WbAtomicFile *file = wb_atomic_file_open (path, error);

  if (file == NULL)
    return FALSE;
  if (length > 0 && fwrite (data, 1, length, file->stream) != length)
    {
      set_io_error (error, file->write_errno ? file->write_errno : errno ? errno : EIO, "cannot write", path);
      wb_atomic_file_abort (file);
      return FALSE;
    }
  return wb_atomic_file_commit (file, error);
}

/* --- threads for the reference backends ----------------------------- */

typedef struct
{
  WbRangeFunc func;
  gpointer    user_data;
  gsize       begin;
  gsize       end;
} RangeJob;

static gpointer
range_thread (gpointer data)
{
  RangeJob *job = data;
  job->func (job->begin, job->end, job->user_data);
  return NULL;
}

guint
wb_parallel_threads (void)
{
  const char *env = g_getenv ("WAVEBENCH_THREADS");
  if (env != NULL)
    {
      guint64 n = g_ascii_strtoull (env, NULL, 10);
      if (n >= 1 && n <= 1024)
        return (guint) n;
    }
  return MAX (1, g_get_num_processors ());
}

void
wb_parallel_for (gsize       n,
                 WbRangeFunc func,
                 gpointer    user_data)
{
  guint nt = wb_parallel_threads ();
  RangeJob jobs[64];
  GThread *threads[64];

  if (n == 0)
    return;
  nt = MIN (nt, 64);
  if (nt > n)
    nt = (guint) n;
  if (nt <= 1)
    {
      func (0, n, user_data);
      return;
    }
  for (guint t = 0; t < nt; t++)
    {
      jobs[t].func = func;
      jobs[t].user_data = user_data;
      jobs[t].begin = n * t / nt;
      jobs[t].end = n * (t + 1) / nt;
      threads[t] = t == 0 ? NULL : g_thread_new ("wb-ref", range_thread, &jobs[t]);
    }
  range_thread (&jobs[0]);
  for (guint t = 1; t < nt; t++)
    g_thread_join (threads[t]);
}
