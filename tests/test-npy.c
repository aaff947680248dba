/* .npy: our writer's files load in NumPy with the right dtype, shape and
 * index order; NumPy's files (C and Fortran order, several dtypes and byte
 * orders) load in our reader; malformed files are refused with messages. */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "wb-error.h"
#include "wb-npy.h"

static char *tmpdir;

static gboolean
have_numpy (void)
{
  int status = 1;
  char *argv[] = { "python3", "-c", "import numpy", NULL };
  if (!g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, &status, NULL))
    return FALSE;
  return g_spawn_check_wait_status (status, NULL);
}

static char *
python (const char *code)
{
  char *argv[] = { "python3", "-c", (char *) code, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (tmpdir, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error));
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("python failed: %s", err);
  return g_strstrip (g_steal_pointer (&out));
}

static void
test_write_numpy_reads (void)
{
  gsize shape[3] = { 4, 3, 2 };
  double spacing[3] = { 1, 1, 1 };
  g_autoptr(WbField) f = wb_field_new ("T", "degC", 3, shape, spacing);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (tmpdir, "f.npy", NULL);
  g_autofree char *out = NULL;

  if (!have_numpy ())
    {
      g_test_skip ("python3 with numpy is not installed");
      return;
    }
  for (gsize k = 0; k < 2; k++)
    for (gsize j = 0; j < 3; j++)
      for (gsize i = 0; i < 4; i++)
        f->data[wb_field_index (f, i, j, k)] = 100 * i + 10 * j + k;
  g_assert_true (wb_npy_write_field (f, path, &error));
  g_assert_no_error (error);
  /* a[i, j, k] must be the cell (i, j, k). */
  out = python ("import numpy as np; a = np.load('f.npy'); "
                "print(a.dtype, a.shape, a[3, 2, 1], a[1, 0, 1], a[0, 2, 0])");
  g_assert_cmpstr (out, ==, "float32 (4, 3, 2) 321.0 101.0 20.0");
}

static void
test_read_numpy_files (void)
{
  struct { const char *make; double at_2_1_0; gboolean integer; } cases[] = {
    { "np.save('a.npy', (100*i + 10*j + k).astype('<f8'))", 210, FALSE },
    { "np.save('a.npy', np.asfortranarray((100*i + 10*j + k).astype('>f4')))", 210, FALSE },
    { "np.save('a.npy', (100*i + 10*j + k).astype('<i4'))", 210, TRUE },
    { "np.save('a.npy', (i + j + k).astype('u1'))", 3, TRUE },
    { "np.save('a.npy', (100*i + 10*j + k).astype('>i8'))", 210, TRUE },
  };

  if (!have_numpy ())
    {
      g_test_skip ("python3 with numpy is not installed");
      return;
    }
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *code = g_strdup_printf ("import numpy as np; i, j, k = np.meshgrid(np.arange(3), np.arange(4), "
                                               "np.arange(5), indexing='ij'); %s", cases[c].make);
      g_autofree char *path = g_build_filename (tmpdir, "a.npy", NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(WbNpyArray) a = NULL;
      g_autofree char *unused = python (code);

      a = wb_npy_read (path, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (a->ndim, ==, 3);
      g_assert_cmpuint (a->shape[0], ==, 3);
      g_assert_cmpuint (a->shape[1], ==, 4);
      g_assert_cmpuint (a->shape[2], ==, 5);
      g_assert_cmpint (a->integer, ==, cases[c].integer);
      /* i fastest: (2, 1, 0) is at 2 + 3 * 1. */
      g_assert_cmpfloat (a->data[2 + 3 * (1 + 4 * 0)], ==, cases[c].at_2_1_0);
    }
}

static void
test_roundtrip_2d (void)
{
  gsize shape[2] = { 5, 7 };
  g_autoptr(WbField) f = wb_field_new ("Sigma_xy", "Pa", 2, shape, NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(WbNpyArray) a = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *data;

  for (gsize n = 0; n < 35; n++)
    f->data[n] = (float) n * 0.5f - 3.0f;
  bytes = wb_npy_encode_field (f);
  data = g_bytes_get_data (bytes, &len);
  /* Header padded so the data is 64-byte aligned. */
  g_assert_cmpuint ((len - 35 * 4) % 64, ==, 0);
  a = wb_npy_read_data (data, len, "mem", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (a->ndim, ==, 2);
  g_assert_cmpuint (a->shape[0], ==, 5);
  g_assert_cmpuint (a->shape[1], ==, 7);
  for (gsize n = 0; n < 35; n++)
    g_assert_cmpfloat (a->data[n], ==, f->data[n]);
}

static void
test_malformed (void)
{
  gsize shape[1] = { 4 };
  g_autoptr(WbField) f = wb_field_new ("x", "", 1, shape, NULL);
  g_autoptr(GBytes) good = wb_npy_encode_field (f);
  gsize len;
  const guint8 *g = g_bytes_get_data (good, &len);
  struct { const char *data; gssize len; const char *msg; } cases[] = {
    { "hello world", -1, "'bad' is not a valid .npy file: missing the \\x93NUMPY magic" },
    { "\x93NUMPY\x09\x00\x10\x00", 10, "'bad' is not a valid .npy file: unsupported format version 9" },
    { "\x93NUMPY\x01\x00\xff\x00{", 11, "'bad' is not a valid .npy file: truncated header" },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(GError) error = NULL;
      gsize l = cases[c].len < 0 ? strlen (cases[c].data) : (gsize) cases[c].len;
      g_assert_null (wb_npy_read_data ((const guint8 *) cases[c].data, l, "bad", &error));
      g_assert_cmpstr (error->message, ==, cases[c].msg);
    }
  /* Cut the data short. */
  {
    g_autoptr(GError) error = NULL;
    g_assert_null (wb_npy_read_data (g, len - 3, "short", &error));
    g_assert_cmpstr (error->message, ==, "'short' is truncated: the header promises 16 bytes of data, the file holds 13");
  }
  /* Unsupported dtype. */
  {
    g_autoptr(GError) error = NULL;
    g_autofree guint8 *copy = g_memdup2 (g, len);
    char *d = memmem (copy, len, "<f4", 3);
    d[1] = 'c';
    d[2] = '8';
    g_assert_null (wb_npy_read_data (copy, len, "cplx", &error));
    g_assert_cmpstr (error->message, ==, "'cplx': unsupported or missing dtype (supported: float32, float64, int8..int64, uint8..uint64, bool)");
  }
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("wb-npy-XXXXXX", NULL);
  g_test_add_func ("/wavebench/npy/write-numpy-reads", test_write_numpy_reads);
  g_test_add_func ("/wavebench/npy/read-numpy-files", test_read_numpy_files);
  g_test_add_func ("/wavebench/npy/roundtrip-2d", test_roundtrip_2d);
  g_test_add_func ("/wavebench/npy/malformed", test_malformed);
  rc = g_test_run ();
  {
    g_autoptr(GDir) d = g_dir_open (tmpdir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name (d)))
      {
        g_autofree char *p = g_build_filename (tmpdir, n, NULL);
        g_unlink (p);
      }
    g_rmdir (tmpdir);
  }
  return rc;
}
