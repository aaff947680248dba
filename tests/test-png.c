#include "config.h"

#include <math.h>
#include <glib/gstdio.h>

#include "wb-error.h"
#include "wb-render.h"

static char *
tmp_dir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("wb-test-png-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_dir (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  if (d)
    g_dir_close (d);
  g_rmdir (dir);
}

/* The pixel at the centre of cell (i, j) in a rendered image; y points up. */
static const guint8 *
cell_pixel (const WbImage *img, const WbField *f, gsize i, gsize j)
{
  double sx = img->field_w / (double) f->shape[0];
  double sy = img->field_h / (double) f->shape[1];
  guint px = img->field_x + (guint) ((i + 0.5) * sx);
  guint py = img->field_y + img->field_h - 1 - (guint) ((j + 0.5) * sy);

  return img->rgba + 4 * ((gsize) py * img->width + px);
}

/* Renders a field with a known ramp (and a NaN), writes the PNG, reads it
 * back through libpng and checks every cell's pixel against the colormap
 * applied to the cell's value: the export shows exactly the data. */
static void
check_round_trip (WbColormap cmap, gboolean fixed)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "field.png", NULL);
  gsize shape[3] = { 9, 6, 1 };
  double spacing[3] = { 1e-3, 1e-3, 1e-3 };
  g_autoptr(WbField) f = wb_field_new ("T", "degC", 2, shape, spacing);
  g_autoptr(WbImage) img = NULL;
  g_autoptr(WbImage) back = NULL;
  g_autoptr(GError) error = NULL;
  WbRenderOptions opts;
  double vmin, vmax;

  for (gsize j = 0; j < shape[1]; j++)
    for (gsize i = 0; i < shape[0]; i++)
      f->data[wb_field_index (f, i, j, 0)] = (float) (i * 3.0 - j * 1.5 + 20.0);
  f->data[wb_field_index (f, 4, 2, 0)] = NAN;

  wb_render_options_init (&opts);
  opts.colormap = cmap;
  opts.fixed_range = fixed;
  opts.vmin = 10;
  opts.vmax = 40;
  img = wb_render_field (f, &opts, &error);
  g_assert_no_error (error);
  wb_render_range (f, &opts, &vmin, &vmax);
  g_assert_cmpfloat (img->vmin, ==, vmin);
  g_assert_cmpfloat (img->vmax, ==, vmax);
  if (fixed)
    {
      g_assert_cmpfloat (vmin, ==, 10);
      g_assert_cmpfloat (vmax, ==, 40);
    }
  else if (wb_colormap_is_diverging (cmap))
    g_assert_cmpfloat (vmin, ==, -vmax);

  g_assert_true (wb_png_write (img, path, &error));
  g_assert_no_error (error);
  back = wb_png_read (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->width, ==, img->width);
  g_assert_cmpuint (back->height, ==, img->height);
  /* Lossless: every byte, colorbar and labels included. */
  g_assert_cmpmem (back->rgba, (gsize) back->width * back->height * 4,
                   img->rgba, (gsize) img->width * img->height * 4);

  for (gsize j = 0; j < shape[1]; j++)
    for (gsize i = 0; i < shape[0]; i++)
      {
        float v = f->data[wb_field_index (f, i, j, 0)];
        const guint8 *px = cell_pixel (img, f, i, j);
        const guint8 *px_back = back->rgba + (px - img->rgba);
        guint8 want[3];

        wb_colormap_map (cmap, isfinite (v) ? (v - vmin) / (vmax - vmin) : NAN, want);
        g_assert_cmpmem (px_back, 3, want, 3);
        g_assert_cmpuint (px_back[3], ==, 255);
      }
  remove_dir (dir);
}

static void
test_png_round_trip (void)
{
  check_round_trip (WB_COLORMAP_VIRIDIS, FALSE);
  check_round_trip (WB_COLORMAP_HOT, TRUE);
  check_round_trip (WB_COLORMAP_DIVERGING, FALSE);
  check_round_trip (WB_COLORMAP_GRAY, TRUE);
}

/* A 3D field exports the slice asked for: z = 3 of a field whose value
 * encodes k, so every pixel must show k = 3. */
static void
test_png_slice (void)
{
  gsize shape[3] = { 5, 4, 6 };
  double spacing[3] = { 1, 1, 1 };
  g_autoptr(WbField) f = wb_field_new ("u", "", 3, shape, spacing);
  g_autoptr(WbImage) img = NULL;
  g_autoptr(GError) error = NULL;
  WbRenderOptions opts;
  guint8 want[3];

  for (gsize k = 0; k < shape[2]; k++)
    for (gsize j = 0; j < shape[1]; j++)
      for (gsize i = 0; i < shape[0]; i++)
        f->data[wb_field_index (f, i, j, k)] = k;
  wb_render_options_init (&opts);
  opts.fixed_range = TRUE;
  opts.vmin = 0;
  opts.vmax = 5;
  opts.slice_axis = 2;
  opts.slice_index = 3;
  img = wb_render_field (f, &opts, &error);
  g_assert_no_error (error);
  wb_colormap_map (opts.colormap, 3 / 5.0, want);
  for (gsize j = 0; j < shape[1]; j++)
    for (gsize i = 0; i < shape[0]; i++)
      {
        g_autoptr(WbField) slice = wb_field_slice (f, 2, 3, NULL);
        g_assert_cmpmem (cell_pixel (img, slice, i, j), 3, want, 3);
      }
}

/* Writes are atomic: a failed write leaves the old file whole and no
 * temporary files behind; a good one replaces it. */
static void
test_png_atomic (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "out.png", NULL);
  g_autofree char *missing = g_build_filename (dir, "no-such-dir", "out.png", NULL);
  gsize shape[3] = { 3, 3, 1 };
  double spacing[3] = { 1, 1, 1 };
  g_autoptr(WbField) f = wb_field_new ("u", "", 2, shape, spacing);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  WbRenderOptions opts;
  GDir *d;
  guint n = 0;

  wb_render_options_init (&opts);
  g_assert_true (g_file_set_contents (path, "old", -1, NULL));
  g_assert_false (wb_png_write_field (f, &opts, missing, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_IO);
  g_clear_error (&error);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "old");

  g_assert_true (wb_png_write_field (f, &opts, path, &error));
  g_assert_no_error (error);
  {
    g_autoptr(WbImage) back = wb_png_read (path, &error);
    g_assert_no_error (error);
    g_assert_nonnull (back);
  }
  d = g_dir_open (dir, 0, NULL);
  while (g_dir_read_name (d))
    n++;
  g_dir_close (d);
  g_assert_cmpuint (n, ==, 1);
  remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wavebench/png/round-trip", test_png_round_trip);
  g_test_add_func ("/wavebench/png/slice", test_png_slice);
  g_test_add_func ("/wavebench/png/atomic", test_png_atomic);
  return g_test_run ();
}
