/* fuzz-kerneldir: the kernel-directory loader (--kernels DIR and
 * $WAVEBENCH_KERNEL_DIR): directory checks, file reading, and the
 * expansion of #include "wb-common.h" with #line markers.
 *
 * Input: a tiny archive.  Each entry is a name byte (picking one of a few
 * names, some of them odd), a two-byte length and that many content bytes.
 * The entries are written into a scratch directory, which is then checked
 * and loaded from, as the CLI does before building kernels.
 */
#define G_LOG_DOMAIN "wb-fuzz"
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "wb-cl.h"
#include "wb-error.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *names[] = {
  "bhte.cl", "wb-common.h", "vwe.cl", "pstm.cl", "guard.cl", "bench.cl",
  "notes.txt", "sub.cl",
};

/* File names asked of the loader, including ones it must refuse. */
static const char *asked[] = {
  "bhte.cl", "vwe.cl", "guard.cl", "wb-common.h", "../bhte.cl", "sub.cl/x.cl",
  "", "missing.cl",
};

static void
clear_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        g_rmdir (p);
      else
        g_unlink (p);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const char *dir;
  gsize pos = 0;
  g_autoptr(GError) error = NULL;

  wb_fuzz_init ();
  dir = wb_fuzz_scratch_dir ();
  clear_dir (dir);

  while (pos + 3 <= size)
    {
      guint8 which = data[pos];
      gsize len = data[pos + 1] | ((gsize) data[pos + 2] << 8);
      g_autofree char *path = NULL;

      pos += 3;
      len = MIN (len, size - pos);
      path = g_build_filename (dir, names[which % G_N_ELEMENTS (names)], NULL);
      if (which & 0x80)
        /* A directory where a kernel file is expected. */
        g_mkdir (path, 0755);
      else if (!g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          /* Plain stdio: g_file_set_contents would fsync on every run. */
          FILE *f = fopen (path, "wb");
          g_assert (f != NULL);
          g_assert (fwrite (data + pos, 1, len, f) == len);
          fclose (f);
        }
      pos += len;
    }

  if (!wb_kernel_dir_check (dir, &error))
    {
      wb_fuzz_check_error (error);
      g_clear_error (&error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (asked); i++)
    {
      g_autofree char *origin = NULL;
      g_autofree char *src = wb_kernel_source_load (dir, asked[i], &origin, &error);

      if (src == NULL)
        {
          wb_fuzz_check_error (error);
          g_clear_error (&error);
          continue;
        }
      g_assert (origin != NULL);
      /* The expansion starts with a #line marker naming the file. */
      g_assert (g_str_has_prefix (src, "#line 1 \""));
    }
  return 0;
}
