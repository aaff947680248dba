#include "config.h"

#include <math.h>

#include "wb-colormap.h"

static void
assert_rgb (const guint8 *rgb, guint r, guint g, guint b)
{
  g_assert_cmpuint (rgb[0], ==, r);
  g_assert_cmpuint (rgb[1], ==, g);
  g_assert_cmpuint (rgb[2], ==, b);
}

/* The published end points: viridis #440154 .. #fde725, inferno (our
 * "hot") #000004 .. #fcffa4, RdBu reversed #053061 .. #67001f, grey. */
static void
test_colormap_endpoints (void)
{
  const guint8 *t;

  t = wb_colormap_table (WB_COLORMAP_VIRIDIS);
  assert_rgb (t, 0x44, 0x01, 0x54);
  assert_rgb (t + 255 * 3, 0xfd, 0xe7, 0x25);
  t = wb_colormap_table (WB_COLORMAP_HOT);
  assert_rgb (t, 0x00, 0x00, 0x04);
  assert_rgb (t + 255 * 3, 0xfc, 0xff, 0xa4);
  t = wb_colormap_table (WB_COLORMAP_DIVERGING);
  assert_rgb (t, 0x05, 0x30, 0x61);
  assert_rgb (t + 255 * 3, 0x67, 0x00, 0x1f);
  t = wb_colormap_table (WB_COLORMAP_GRAY);
  assert_rgb (t, 0, 0, 0);
  assert_rgb (t + 255 * 3, 255, 255, 255);
}

/* CIE L* of known colours: black 0, white 100, sRGB 119/119/119 is 50.0
 * (L* = 116 Y^(1/3) - 16 with Y = 0.18447), pure red 53.24. */
static void
test_colormap_lightness_formula (void)
{
  const guint8 black[3] = { 0, 0, 0 }, white[3] = { 255, 255, 255 };
  const guint8 grey[3] = { 119, 119, 119 }, red[3] = { 255, 0, 0 };

  g_assert_cmpfloat_with_epsilon (wb_colormap_lightness (black), 0.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (wb_colormap_lightness (white), 100.0, 1e-3);
  g_assert_cmpfloat_with_epsilon (wb_colormap_lightness (grey), 50.03, 0.05);
  g_assert_cmpfloat_with_epsilon (wb_colormap_lightness (red), 53.24, 0.05);
}

/* Sequential maps must read as "more" in lightness everywhere (the classic
 * hot and jet fail this: bands look darker than lower values).  The tables
 * hold 8-bit sRGB, and rounding each channel moves L* by up to about 0.2,
 * so neighbouring entries of a map whose L* rises by 0.3 per entry (viridis)
 * may dip by a few hundredths: allow 0.1 per step, and require a strict
 * rise over every 4 entries and a large rise end to end. */
static void
test_colormap_sequential_monotonic (void)
{
  const WbColormap maps[] = { WB_COLORMAP_VIRIDIS, WB_COLORMAP_HOT, WB_COLORMAP_GRAY };

  for (guint m = 0; m < G_N_ELEMENTS (maps); m++)
    {
      const guint8 *t = wb_colormap_table (maps[m]);
      double l[256];
      guint dips = 0;

      for (guint i = 0; i < 256; i++)
        l[i] = wb_colormap_lightness (t + 3 * i);
      g_test_message ("%s: L* %.1f .. %.1f", wb_colormap_to_string (maps[m]), l[0], l[255]);
      for (guint i = 1; i < 256; i++)
        {
          if (l[i] <= l[i - 1])
            dips++;
          if (!(l[i] > l[i - 1] - 0.1))
            g_error ("%s: L*[%u] = %.3f falls below L*[%u] = %.3f",
                     wb_colormap_to_string (maps[m]), i, l[i], i - 1, l[i - 1]);
          if (i >= 4 && !(l[i] > l[i - 4]))
            g_error ("%s: L*[%u] = %.3f is not above L*[%u] = %.3f",
                     wb_colormap_to_string (maps[m]), i, l[i], i - 4, l[i - 4]);
        }
      g_test_message ("%s: %u rounding dips", wb_colormap_to_string (maps[m]), dips);
      g_assert_cmpuint (dips, <, 8);
      g_assert_cmpfloat (l[255] - l[0], >, 60);
    }
}

/* Diverging: lightness peaks at the centre (zero) and falls off toward both
 * ends, nearly symmetrically, so +x and -x look equally strong. */
static void
test_colormap_diverging (void)
{
  const guint8 *t = wb_colormap_table (WB_COLORMAP_DIVERGING);
  double centre = wb_colormap_lightness (t + 3 * 128);

  g_assert_true (wb_colormap_is_diverging (WB_COLORMAP_DIVERGING));
  g_assert_false (wb_colormap_is_diverging (WB_COLORMAP_VIRIDIS));
  g_assert_cmpfloat (centre, >, 90);
  for (guint i = 1; i <= 127; i++)
    {
      double lo = wb_colormap_lightness (t + 3 * (127 - i));
      double lo_prev = wb_colormap_lightness (t + 3 * (128 - i));
      double hi = wb_colormap_lightness (t + 3 * (128 + i));
      double hi_prev = wb_colormap_lightness (t + 3 * (127 + i));

      /* Non-increasing away from the centre (RdBu has a flat top). */
      g_assert_cmpfloat (lo, <=, lo_prev + 0.5);
      g_assert_cmpfloat (hi, <=, hi_prev + 0.5);
      /* RdBu is not exactly symmetric in L*; 8 units is below what the eye
       * reads as a different strength at the same distance from zero. */
      g_assert_cmpfloat (fabs (lo - hi), <, 8);
    }
  /* Blue below zero, red above. */
  g_assert_cmpuint (t[2], >, t[0]);
  g_assert_cmpuint (t[255 * 3], >, t[255 * 3 + 2]);
}

static void
test_colormap_map (void)
{
  const guint8 *t = wb_colormap_table (WB_COLORMAP_VIRIDIS);
  guint8 rgb[3];

  wb_colormap_map (WB_COLORMAP_VIRIDIS, -3, rgb);
  g_assert_cmpmem (rgb, 3, t, 3);
  wb_colormap_map (WB_COLORMAP_VIRIDIS, 7, rgb);
  g_assert_cmpmem (rgb, 3, t + 255 * 3, 3);
  /* Index round (t * 255): 0.5 -> 128, 0.25 -> 64 (63.75 rounds up). */
  wb_colormap_map (WB_COLORMAP_VIRIDIS, 0.5, rgb);
  g_assert_cmpmem (rgb, 3, t + 128 * 3, 3);
  wb_colormap_map (WB_COLORMAP_VIRIDIS, 0.25, rgb);
  g_assert_cmpmem (rgb, 3, t + 64 * 3, 3);
  wb_colormap_map (WB_COLORMAP_HOT, NAN, rgb);
  assert_rgb (rgb, 255, 0, 255);
}

static void
test_colormap_names (void)
{
  for (WbColormap c = 0; c < WB_COLORMAP_N; c++)
    {
      WbColormap back = WB_COLORMAP_N;

      g_assert_true (wb_colormap_from_string (wb_colormap_to_string (c), &back));
      g_assert_cmpint (back, ==, c);
    }
  {
    WbColormap back = WB_COLORMAP_HOT;
    g_assert_false (wb_colormap_from_string ("jet", &back));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wavebench/colormap/endpoints", test_colormap_endpoints);
  g_test_add_func ("/wavebench/colormap/lightness-formula", test_colormap_lightness_formula);
  g_test_add_func ("/wavebench/colormap/sequential-monotonic", test_colormap_sequential_monotonic);
  g_test_add_func ("/wavebench/colormap/diverging", test_colormap_diverging);
  g_test_add_func ("/wavebench/colormap/map", test_colormap_map);
  g_test_add_func ("/wavebench/colormap/names", test_colormap_names);
  return g_test_run ();
}
