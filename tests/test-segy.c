/* SEG-Y through libsegyio: IEEE and IBM round trips, coordinate scalars
 * and the local origin, configurable byte positions, delays, little-endian
 * and integer files, volumes, atomic writes, and the exact messages for
 * truncated, unknown-format, inconsistent and coordinate-less files. */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "wb-error.h"
#include "wb-segy.h"
#include "wb-synth.h"

static char *tmpdir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

/* Writes @n traces of @ns samples: trace t, sample i = (t + 1) * sin(i)
 * scaled so values span many binades (exercises IBM's hex exponent). */
static void
write_simple (const char *path, int format, gsize n, guint ns, gint32 scalar,
              const double *coords /* n * 4 or NULL */, int delay_ms)
{
  g_autoptr(GError) error = NULL;
  g_autofree float *s = g_new (float, ns);
  WbSegyWriter *w = wb_segy_writer_open (path, ns, 0.002, format, NULL, &error);

  g_assert_no_error (error);
  for (gsize t = 0; t < n; t++)
    {
      guint8 h[240] = { 0 };

      for (guint i = 0; i < ns; i++)
        s[i] = (float) ((t + 1) * sin (0.37 * i) * pow (10.0, (double) (i % 13) - 6));
      wb_segy_set_int (h, 71, 2, scalar);
      wb_segy_set_int (h, 109, 2, delay_ms);
      if (coords != NULL)
        {
          wb_segy_set_coordinate (h, 73, scalar, coords[4 * t + 0]);
          wb_segy_set_coordinate (h, 77, scalar, coords[4 * t + 1]);
          wb_segy_set_coordinate (h, 81, scalar, coords[4 * t + 2]);
          wb_segy_set_coordinate (h, 85, scalar, coords[4 * t + 3]);
        }
      g_assert_true (wb_segy_writer_add (w, h, s, &error));
      g_assert_no_error (error);
    }
  g_assert_true (wb_segy_writer_commit (w, &error));
  g_assert_no_error (error);
}

static void
check_round_trip (int format, double tolerance)
{
  g_autofree char *path = tmp_path (format == WB_SEGY_IBM_FLOAT ? "ibm.sgy" : "ieee.sgy");
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSegyReader) r = NULL;
  guint ns = 64;
  gsize n = 5;
  g_autofree float *got = g_new (float, ns);
  double coords[20];

  for (int i = 0; i < 20; i++)
    coords[i] = 100 + 10 * i;
  write_simple (path, format, n, ns, -100, coords, 0);
  r = wb_segy_reader_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (wb_segy_reader_n_traces (r), ==, n);
  g_assert_cmpuint (wb_segy_reader_n_samples (r), ==, ns);
  g_assert_cmpint (wb_segy_reader_format (r), ==, format);
  g_assert_false (wb_segy_reader_is_lsb (r));
  g_assert_cmpfloat_with_epsilon (wb_segy_reader_dt (r), 0.002, 1e-12);
  g_assert_true (g_str_has_prefix (wb_segy_reader_text (r), "C 1 Written by Wavebench"));

  for (gsize t = 0; t < n; t++)
    {
      guint8 h[240];

      g_assert_true (wb_segy_reader_trace (r, t, got, &error));
      g_assert_no_error (error);
      for (guint i = 0; i < ns; i++)
        {
          float want = (float) ((t + 1) * sin (0.37 * i) * pow (10.0, (double) (i % 13) - 6));
          if (tolerance == 0)
            g_assert_cmpfloat (got[i], ==, want);
          else
            g_assert_cmpfloat (fabs (got[i] - want), <=, tolerance * fabs (want));
        }
      g_assert_true (wb_segy_reader_header (r, t, h, &error));
      g_assert_cmpint (wb_segy_get_int (h, 115, 2), ==, (int) ns);
      g_assert_cmpint (wb_segy_get_int (h, 117, 2), ==, 2000);
      g_assert_cmpint (wb_segy_get_int (h, 1, 4), ==, (int) t + 1);
      g_assert_cmpint (wb_segy_get_int (h, 73, 4), ==, (int) lround (coords[4 * t] * 100));
    }
}

static void
test_ieee_round_trip (void)
{
  /* IEEE floats are stored bit for bit. */
  check_round_trip (WB_SEGY_IEEE_FLOAT, 0);
}

static void
test_ibm_round_trip (void)
{
  /* IBM floats keep 24 bits of mantissa under a hex exponent: the leading
   * hex digit may hold as few as 1 significant bit, so the worst relative
   * error is 2^-21 (4.8e-7) once rounded, 2^-20 if truncated. */
  check_round_trip (WB_SEGY_IBM_FLOAT, 9.6e-7);
}

static void
test_ibm_exact_values (void)
{
  g_autofree char *path = tmp_path ("ibm-exact.sgy");
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSegyReader) r = NULL;
  float in[6] = { 1.0f, -2.0f, 0.5f, 0.0f, 118.625f, -0.15625f };
  float out[6];
  guint8 h[240] = { 0 };
  WbSegyWriter *w = wb_segy_writer_open (path, 6, 0.004, WB_SEGY_IBM_FLOAT, NULL, &error);
  g_autofree char *raw = NULL;
  gsize len;

  g_assert_no_error (error);
  g_assert_true (wb_segy_writer_add (w, h, in, &error));
  g_assert_true (wb_segy_writer_commit (w, &error));
  /* 118.625 is 0x42 76A000 in IBM notation (the classic example). */
  g_assert_true (g_file_get_contents (path, &raw, &len, NULL));
  g_assert_cmpuint (len, ==, 3600 + 240 + 24);
  g_assert_cmpuint ((guint8) raw[3840 + 16], ==, 0x42);
  g_assert_cmpuint ((guint8) raw[3840 + 17], ==, 0x76);
  g_assert_cmpuint ((guint8) raw[3840 + 18], ==, 0xA0);
  g_assert_cmpuint ((guint8) raw[3225 - 1 + 1], ==, 1);   /* format code 1 at 3225-3226 */
  r = wb_segy_reader_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (wb_segy_reader_trace (r, 0, out, &error));
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (out[i], ==, in[i]);
}

static void
test_scalars_and_origin (void)
{
  /* UTM-sized coordinates with centimetres: float32 alone would lose
   * about 0.5 m at 6e6; the scan's local origin keeps them to the cm. */
  static const gint32 scalars[] = { -100, -10, 1, 10, 0 };
  g_autoptr(GError) error = NULL;

  for (guint s = 0; s < G_N_ELEMENTS (scalars); s++)
    {
      g_autofree char *name = g_strdup_printf ("scalar%d.sgy", scalars[s]);
      g_autofree char *path = tmp_path (name);
      g_autoptr(WbSegyReader) r = NULL;
      g_autoptr(WbSegyGeometry) g = NULL;
      double unit = scalars[s] < 0 ? 1.0 / -scalars[s] : (scalars[s] > 0 ? scalars[s] : 1);
      double coords[12];
      WbSegyLayout layout;

      for (int t = 0; t < 3; t++)
        {
          coords[4 * t + 0] = round ((512345.67 + 25 * t) / unit) * unit;
          coords[4 * t + 1] = round ((6123456.78 - 10 * t) / unit) * unit;
          coords[4 * t + 2] = round ((512345.67 + 25 * t + 300) / unit) * unit;
          coords[4 * t + 3] = round ((6123456.78 - 10 * t + 40) / unit) * unit;
        }
      write_simple (path, WB_SEGY_IEEE_FLOAT, 3, 8, scalars[s], coords, 0);
      r = wb_segy_reader_open (path, &error);
      g_assert_no_error (error);
      wb_segy_layout_init (&layout);
      g = wb_segy_scan (r, &layout, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpfloat (g->origin_x, ==, round (coords[0]));
      g_assert_cmpfloat (g->origin_y, ==, round (coords[1]));
      for (int t = 0; t < 3; t++)
        {
          /* Local coordinates are small, so float32 holds them to ~1e-5 m. */
          g_assert_cmpfloat (fabs (g->origin_x + g->sx[t] - coords[4 * t + 0]), <, 1e-4);
          g_assert_cmpfloat (fabs (g->origin_y + g->sy[t] - coords[4 * t + 1]), <, 1e-4);
          g_assert_cmpfloat (fabs (g->origin_x + g->rx[t] - coords[4 * t + 2]), <, 1e-4);
          g_assert_cmpfloat (fabs (g->origin_y + g->ry[t] - coords[4 * t + 3]), <, 1e-4);
        }
      g_assert_cmpfloat (fabs (g->max_offset - hypot (300, 40)), <, 1e-3);
    }
}

static void
test_byte_positions_and_delay (void)
{
  /* Coordinates at non-standard places (source in the CDP slots, receiver
   * in the unassigned bytes 233/237, scalar at 215, delay at 105): only a
   * layout that names them reads them. */
  g_autofree char *path = tmp_path ("layout.sgy");
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSegyReader) r = NULL;
  g_autoptr(WbSegyGeometry) g = NULL;
  g_autoptr(WbSegyGeometry) g2 = NULL;
  WbSynthParams p;
  WbSegyLayout layout, standard;
  double off = 200;

  wb_synth_params_init (&p);
  p.mnx = 3;
  p.mny = 2;
  p.n_samples = 16;
  p.delay = 0.1;
  p.origin_x = 400000;
  p.origin_y = 7000000;
  g_array_append_val (p.offsets, off);
  wb_segy_layout_init (&layout);
  layout.source_x = 181;
  layout.source_y = 185;
  layout.receiver_x = 233;
  layout.receiver_y = 237;
  layout.scalar = 215;
  layout.delay = 105;
  g_assert_true (wb_synth_write_segy (&p, path, WB_SEGY_IEEE_FLOAT, &layout, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  r = wb_segy_reader_open (path, &error);
  g_assert_no_error (error);
  g = wb_segy_scan (r, &layout, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g->n_traces, ==, wb_synth_n_traces (&p));
  for (gsize t = 0; t < g->n_traces; t++)
    {
      double sx, sy, rx, ry;
      wb_synth_trace (&p, t, &sx, &sy, &rx, &ry, NULL);
      g_assert_cmpfloat (fabs (g->origin_x + g->sx[t] - (sx + p.origin_x)), <, 1e-3);
      g_assert_cmpfloat (fabs (g->origin_y + g->sy[t] - (sy + p.origin_y)), <, 1e-3);
      g_assert_cmpfloat (fabs (g->origin_x + g->rx[t] - (rx + p.origin_x)), <, 1e-3);
      g_assert_cmpfloat (fabs (g->origin_y + g->ry[t] - (ry + p.origin_y)), <, 1e-3);
      g_assert_cmpfloat (fabs (g->delay[t] - 0.1), <, 1e-7);
    }
  g_assert_cmpfloat (fabs (g->max_offset - 200), <, 1e-3);

  /* The standard places hold nothing: the standard layout finds no
   * coordinates, and byte 109 no delay. */
  {
    guint8 h[240];
    g_autofree char *msg = g_strdup_printf ("%s: missing coordinates: source x/y (bytes 73/77) and "
                                            "receiver x/y (bytes 81/85) are zero in every trace", path);
    wb_segy_layout_init (&standard);
    g2 = wb_segy_scan (r, &standard, NULL, NULL, NULL, &error);
    g_assert_null (g2);
    g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
    g_assert_cmpstr (error->message, ==, msg);
    g_assert_true (wb_segy_reader_header (r, 0, h, NULL));
    g_assert_cmpint (wb_segy_get_int (h, 109, 2), ==, 0);
    g_assert_cmpint (wb_segy_get_int (h, 105, 2), ==, 100);
  }
  wb_synth_params_clear (&p);
}

static void
test_lsb_and_integers (void)
{
  /* Hand-made files: little-endian IEEE (rev2 byte-order mark), and
   * big-endian 16-bit and 32-bit integer samples. */
  static const int formats[] = { 5, 3, 2, 8 };

  for (guint f = 0; f < G_N_ELEMENTS (formats); f++)
    for (int lsb = 0; lsb < 2; lsb++)
      {
        int format = formats[f];
        int size = format == 3 ? 2 : format == 8 ? 1 : 4;
        g_autofree char *name = g_strdup_printf ("hand-%d-%d.sgy", format, lsb);
        g_autofree char *path = tmp_path (name);
        g_autoptr(GError) error = NULL;
        g_autoptr(WbSegyReader) r = NULL;
        g_autoptr(WbSegyGeometry) g = NULL;
        GByteArray *b = g_byte_array_new ();
        guint8 bin[400] = { 0 }, h[240];
        guint8 text[3200];
        WbSegyLayout layout;
        float out[4];
        int ns = 4;

        memset (text, 0x40, sizeof text);    /* EBCDIC spaces */
        text[0] = 0xC3;                      /* EBCDIC 'C' */
        text[1] = 0xF1;                      /* '1' */
        g_byte_array_append (b, text, sizeof text);
#define PUT(buf, pos, sz, v) G_STMT_START { \
    if (lsb) { guint32 u = (guint32) (v); for (int q = 0; q < (sz); q++) (buf)[(pos) - 1 + q] = (u >> (8 * q)) & 0xff; } \
    else wb_segy_set_int ((buf), (pos), (sz), (v)); } G_STMT_END
        PUT (bin, 17, 2, 1000);
        PUT (bin, 21, 2, ns);
        PUT (bin, 25, 2, format);
        if (lsb)
          PUT (bin, 97, 4, 0x01020304);   /* the mark, written in the file's order */
        g_byte_array_append (b, bin, sizeof bin);
        for (int t = 0; t < 2; t++)
          {
            memset (h, 0, sizeof h);
            PUT (h, 71, 2, -10);
            PUT (h, 73, 4, 12345 + t);
            PUT (h, 81, 4, 22345 + t);
            PUT (h, 109, 2, 8);
            PUT (h, 115, 2, ns);
            g_byte_array_append (b, h, sizeof h);
            for (int i = 0; i < ns; i++)
              {
                guint8 s[4];
                gint32 iv = (i - 1) * (t + 3);
                if (format == 5)
                  {
                    float fv = iv + 0.25f;
                    memcpy (&iv, &fv, 4);
                  }
                PUT (s, 1, size, iv);
                g_byte_array_append (b, s, size);
              }
          }
#undef PUT
        g_assert_true (g_file_set_contents (path, (char *) b->data, b->len, NULL));
        g_byte_array_unref (b);

        r = wb_segy_reader_open (path, &error);
        g_assert_no_error (error);
        g_assert_cmpint (wb_segy_reader_is_lsb (r), ==, lsb);
        g_assert_cmpint (wb_segy_reader_format (r), ==, format);
        g_assert_cmpuint (wb_segy_reader_n_traces (r), ==, 2);
        g_assert_true (g_str_has_prefix (wb_segy_reader_text (r), "C1 "));
        g_assert_true (wb_segy_reader_trace (r, 1, out, &error));
        for (int i = 0; i < ns; i++)
          g_assert_cmpfloat (out[i], ==, (i - 1) * 4 + (format == 5 ? 0.25f : 0));
        wb_segy_layout_init (&layout);
        g = wb_segy_scan (r, &layout, NULL, NULL, NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpfloat (fabs (g->origin_x + g->sx[1] - 1234.6), <, 1e-5);
        g_assert_cmpfloat (fabs (g->origin_x + g->rx[1] - 2234.6), <, 1e-4);
        g_assert_cmpfloat (g->delay[0], ==, 0.008f);
      }
}

static void
test_volume (void)
{
  g_autofree char *path = tmp_path ("volume.sgy");
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSegyReader) r = NULL;
  gsize shape[3] = { 4, 3, 10 };
  double spacing[3] = { 12.5, 25, 0.004 };
  g_autoptr(WbField) f = wb_field_new ("image", "", 3, shape, spacing);
  float col[10];
  guint8 h[240];

  f->origin[0] = 654321.25;
  f->origin[1] = 7654321.5;
  f->origin[2] = 0.2;
  for (gsize s = 0; s < wb_field_n_elements (f); s++)
    f->data[s] = s * 0.5f;
  g_assert_true (wb_segy_write_volume (f, path, WB_SEGY_IBM_FLOAT, &error));
  g_assert_no_error (error);
  r = wb_segy_reader_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (wb_segy_reader_n_traces (r), ==, 12);
  g_assert_cmpuint (wb_segy_reader_n_samples (r), ==, 10);
  /* Trace order: crosslines (x) fastest within inlines (y). */
  g_assert_true (wb_segy_reader_trace (r, 1 + 4 * 2, col, &error));
  g_assert_true (wb_segy_reader_header (r, 1 + 4 * 2, h, &error));
  for (int k = 0; k < 10; k++)
    g_assert_cmpfloat (col[k], ==, f->data[wb_field_index (f, 1, 2, k)]);
  g_assert_cmpint (wb_segy_get_int (h, 189, 4), ==, 3);
  g_assert_cmpint (wb_segy_get_int (h, 193, 4), ==, 2);
  g_assert_cmpint (wb_segy_get_int (h, 109, 2), ==, 200);
  g_assert_cmpfloat (wb_segy_apply_scalar (wb_segy_get_int (h, 181, 4), wb_segy_get_int (h, 71, 2)),
                     ==, 654321.25 + 12.5);
  g_assert_cmpfloat (wb_segy_apply_scalar (wb_segy_get_int (h, 185, 4), wb_segy_get_int (h, 71, 2)),
                     ==, 7654321.5 + 50);
}

static void
test_atomic (void)
{
  g_autofree char *path = tmp_path ("atomic.sgy");
  g_autoptr(GError) error = NULL;
  float s[4] = { 1, 2, 3, 4 };
  guint8 h[240] = { 0 };
  WbSegyWriter *w;

  write_simple (path, WB_SEGY_IEEE_FLOAT, 2, 4, 1, NULL, 0);
  /* A writer that is aborted leaves the old file untouched. */
  w = wb_segy_writer_open (path, 4, 0.004, WB_SEGY_IEEE_FLOAT, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wb_segy_writer_add (w, h, s, &error));
  wb_segy_writer_abort (w);
  {
    g_autoptr(WbSegyReader) r = wb_segy_reader_open (path, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (wb_segy_reader_n_traces (r), ==, 2);
    g_assert_cmpfloat (wb_segy_reader_dt (r), ==, 0.002);
  }
  /* Nothing but the file itself is left in the directory. */
  {
    g_autoptr(GDir) dir = g_dir_open (tmpdir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (dir)) != NULL)
      g_assert_true (g_str_has_suffix (name, ".sgy"));
  }
  g_assert_null (wb_segy_writer_open (path, 0, 0.004, WB_SEGY_IEEE_FLOAT, NULL, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "SEG-Y output: 0 samples per trace; the format allows 1..65535");
  g_clear_error (&error);
  g_assert_null (wb_segy_writer_open (path, 4, 0.004, 2, NULL, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
}

static void
scan_progress (gsize done, gsize total, gpointer data)
{
  gsize *last = data;
  g_assert_cmpuint (done, <=, total);
  g_assert_cmpuint (done, >=, *last);
  *last = done;
}

static void
test_scan_progress_and_cancel (void)
{
  g_autofree char *path = tmp_path ("progress.sgy");
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSegyReader) r = NULL;
  g_autoptr(WbSegyGeometry) g = NULL;
  g_autoptr(GCancellable) c = g_cancellable_new ();
  WbSynthParams p;
  WbSegyLayout layout;
  gsize last = 0;

  wb_synth_params_init (&p);
  p.mnx = 100;
  p.mny = 100;
  p.n_samples = 4;
  g_assert_true (wb_synth_write_segy (&p, path, WB_SEGY_IEEE_FLOAT, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  wb_synth_params_clear (&p);
  r = wb_segy_reader_open (path, &error);
  g_assert_no_error (error);
  wb_segy_layout_init (&layout);
  g = wb_segy_scan (r, &layout, scan_progress, &last, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (last, ==, 10000);
  g_cancellable_cancel (c);
  g_assert_null (wb_segy_scan (r, &layout, NULL, NULL, c, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static char *
write_bytes (const char *name, const char *data, gsize len)
{
  char *path = tmp_path (name);
  g_assert_true (g_file_set_contents (path, data, len, NULL));
  return path;
}

static void
expect_open_error (const char *path, int code, const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSegyReader) r = wb_segy_reader_open (path, &error);
  g_autofree char *expected = g_strdup_printf ("%s: %s", path, message);

  g_assert_null (r);
  g_assert_error (error, WB_ERROR, code);
  g_assert_cmpstr (error->message, ==, expected);
}

static void
test_bad_files (void)
{
  g_autofree char *good = tmp_path ("good.sgy");
  g_autofree char *raw = NULL;
  gsize len;
  guint ns = 10;

  write_simple (good, WB_SEGY_IEEE_FLOAT, 3, ns, 1, NULL, 0);
  g_assert_true (g_file_get_contents (good, &raw, &len, NULL));
  g_assert_cmpuint (len, ==, 3600 + 3 * (240 + 40));

  {
    g_autofree char *p = write_bytes ("short.sgy", raw, 1000);
    expect_open_error (p, WB_ERROR_INVALID,
                       "truncated: 1000 bytes, but a SEG-Y file needs at least 3600 (text and binary headers)");
  }
  {
    g_autofree char *p = write_bytes ("cut.sgy", raw, len - 17);
    expect_open_error (p, WB_ERROR_INVALID,
                       "truncated or inconsistent: 823 bytes after the headers are 2 whole traces "
                       "of 280 bytes (240 + 10 samples of 4-byte IEEE float) plus 263 bytes");
  }
  {
    g_autofree char *p = write_bytes ("headers-only.sgy", raw, 3600);
    expect_open_error (p, WB_ERROR_INVALID, "no traces after the headers");
  }
  {
    g_autofree char *bad = g_memdup2 (raw, len);
    g_autofree char *p = NULL;
    bad[3224] = 0;
    bad[3225] = 7;
    p = write_bytes ("format7.sgy", bad, len);
    expect_open_error (p, WB_ERROR_INVALID,
                       "unknown sample format code 7 at byte 3225 of the binary header (known: "
                       "1 IBM float, 2 32-bit integer, 3 16-bit integer, 5 IEEE float, 8 8-bit integer)");
  }
  {
    /* Zero samples in the binary header and in the first trace header. */
    g_autofree char *bad = g_memdup2 (raw, len);
    g_autofree char *p = NULL;
    bad[3220] = bad[3221] = 0;
    bad[3600 + 114] = bad[3600 + 115] = 0;
    p = write_bytes ("nosamples.sgy", bad, len);
    expect_open_error (p, WB_ERROR_INVALID,
                       "no sample count: byte 3221 of the binary header and byte 115 of the first "
                       "trace header are both zero");
  }
  {
    /* The binary header says 12 samples: the traces no longer fit. */
    g_autofree char *bad = g_memdup2 (raw, len);
    g_autofree char *p = NULL;
    bad[3221] = 12;
    p = write_bytes ("wrongcount.sgy", bad, len);
    expect_open_error (p, WB_ERROR_INVALID,
                       "truncated or inconsistent: 840 bytes after the headers are 2 whole traces "
                       "of 288 bytes (240 + 12 samples of 4-byte IEEE float) plus 264 bytes");
  }
  {
    /* One trace header disagrees with the binary header. */
    g_autofree char *bad = g_memdup2 (raw, len);
    g_autofree char *p = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(WbSegyReader) r = NULL;
    g_autofree char *msg = NULL;
    WbSegyLayout layout;

    bad[3600 + 2 * 280 + 115] = 11;
    p = write_bytes ("inconsistent.sgy", bad, len);
    r = wb_segy_reader_open (p, &error);
    g_assert_no_error (error);
    wb_segy_layout_init (&layout);
    g_assert_null (wb_segy_scan (r, &layout, NULL, NULL, NULL, &error));
    g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
    msg = g_strdup_printf ("%s: inconsistent sample counts: trace 2 says 11 samples (byte 115) "
                           "but the file has 10 per trace (binary header byte 3221)", p);
    g_assert_cmpstr (error->message, ==, msg);
  }
  {
    /* write_simple without coordinates: all zero. */
    g_autoptr(GError) error = NULL;
    g_autoptr(WbSegyReader) r = wb_segy_reader_open (good, &error);
    g_autofree char *msg = NULL;
    WbSegyLayout layout;

    g_assert_no_error (error);
    wb_segy_layout_init (&layout);
    g_assert_null (wb_segy_scan (r, &layout, NULL, NULL, NULL, &error));
    g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
    msg = g_strdup_printf ("%s: missing coordinates: source x/y (bytes 73/77) and receiver x/y "
                           "(bytes 81/85) are zero in every trace", good);
    g_assert_cmpstr (error->message, ==, msg);
    g_clear_error (&error);
    layout.geometry = WB_SEGY_GEOMETRY_CDP;
    g_assert_null (wb_segy_scan (r, &layout, NULL, NULL, NULL, &error));
    g_clear_pointer (&msg, g_free);
    msg = g_strdup_printf ("%s: missing coordinates: CDP x/y (bytes 181/185) are zero in every trace", good);
    g_assert_cmpstr (error->message, ==, msg);
    g_clear_error (&error);
    layout.source_x = 238;
    g_assert_null (wb_segy_scan (r, &layout, NULL, NULL, NULL, &error));
    g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
    g_assert_cmpstr (error->message, ==,
                     "source x: byte position 238 is outside the 240-byte trace header (a 4-byte field needs 1..237)");
  }
  {
    g_autofree char *p = tmp_path ("does-not-exist.sgy");
    g_autoptr(GError) error = NULL;
    g_assert_null (wb_segy_reader_open (p, &error));
    g_assert_error (error, WB_ERROR, WB_ERROR_NOT_FOUND);
  }
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("wb-test-segy-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);

  g_test_add_func ("/wavebench/segy/ieee-round-trip", test_ieee_round_trip);
  g_test_add_func ("/wavebench/segy/ibm-round-trip", test_ibm_round_trip);
  g_test_add_func ("/wavebench/segy/ibm-exact", test_ibm_exact_values);
  g_test_add_func ("/wavebench/segy/scalars-origin", test_scalars_and_origin);
  g_test_add_func ("/wavebench/segy/byte-positions-delay", test_byte_positions_and_delay);
  g_test_add_func ("/wavebench/segy/lsb-integers", test_lsb_and_integers);
  g_test_add_func ("/wavebench/segy/volume", test_volume);
  g_test_add_func ("/wavebench/segy/atomic", test_atomic);
  g_test_add_func ("/wavebench/segy/scan-progress-cancel", test_scan_progress_and_cancel);
  g_test_add_func ("/wavebench/segy/bad-files", test_bad_files);
  rc = g_test_run ();

  {
    g_autoptr(GDir) dir = g_dir_open (tmpdir, 0, NULL);
    const char *name;
    while (dir && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *p = g_build_filename (tmpdir, name, NULL);
        g_unlink (p);
      }
    g_rmdir (tmpdir);
  }
  g_free (tmpdir);
  return rc;
}
