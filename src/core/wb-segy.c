#define G_LOG_DOMAIN "wb-segy"
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include <segyio/segy.h>

#include "wb-error.h"
#include "wb-io.h"
#include "wb-segy.h"

#define WB_SEGY_HEADERS_SIZE (SEGY_TEXT_HEADER_SIZE + SEGY_BINARY_HEADER_SIZE)

void
wb_segy_layout_init (WbSegyLayout *layout)
{
  layout->source_x = SEGY_TR_SOURCE_X;
  layout->source_y = SEGY_TR_SOURCE_Y;
  layout->receiver_x = SEGY_TR_GROUP_X;
  layout->receiver_y = SEGY_TR_GROUP_Y;
  layout->cdp_x = SEGY_TR_CDP_X;
  layout->cdp_y = SEGY_TR_CDP_Y;
  layout->scalar = SEGY_TR_SOURCE_GROUP_SCALAR;
  layout->delay = SEGY_TR_DELAY_REC_TIME;
  layout->geometry = WB_SEGY_GEOMETRY_SOURCE_RECEIVER;
}

static gboolean
check_pos (const char *what, int pos, int size, GError **error)
{
  if (pos < 1 || pos + size - 1 > SEGY_TRACE_HEADER_SIZE)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s: byte position %d is outside the 240-byte trace header "
                   "(a %d-byte field needs 1..%d)", what, pos, size,
                   SEGY_TRACE_HEADER_SIZE - size + 1);
      return FALSE;
    }
  return TRUE;
}

gboolean
wb_segy_layout_check (const WbSegyLayout *layout,
                      GError            **error)
{
  return check_pos ("source x", layout->source_x, 4, error)
      && check_pos ("source y", layout->source_y, 4, error)
      && check_pos ("receiver x", layout->receiver_x, 4, error)
      && check_pos ("receiver y", layout->receiver_y, 4, error)
      && check_pos ("CDP x", layout->cdp_x, 4, error)
      && check_pos ("CDP y", layout->cdp_y, 4, error)
      && check_pos ("coordinate scalar", layout->scalar, 2, error)
      && check_pos ("delay", layout->delay, 2, error);
}

const char *
wb_segy_format_name (int format)
{
  switch (format)
    {
    case WB_SEGY_IBM_FLOAT: return "4-byte IBM float";
    case WB_SEGY_INT32: return "4-byte integer";
    case WB_SEGY_INT16: return "2-byte integer";
    case WB_SEGY_IEEE_FLOAT: return "4-byte IEEE float";
    case WB_SEGY_INT8: return "1-byte integer";
    default: return "unknown";
    }
}

static gboolean
format_supported (int format)
{
  return format == WB_SEGY_IBM_FLOAT || format == WB_SEGY_INT32
      || format == WB_SEGY_INT16 || format == WB_SEGY_IEEE_FLOAT
      || format == WB_SEGY_INT8;
}

gint32
wb_segy_get_int (const guint8 *header,
                 int           pos,
                 int           size)
{
  const guint8 *p = header + pos - 1;

  switch (size)
    {
    case 1:
      return (gint8) p[0];
    case 2:
      return (gint16) (((guint16) p[0] << 8) | p[1]);
    default:
      return (gint32) (((guint32) p[0] << 24) | ((guint32) p[1] << 16)
                       | ((guint32) p[2] << 8) | p[3]);
    }
}

void
wb_segy_set_int (guint8 *header,
                 int     pos,
                 int     size,
                 gint32  value)
{
  guint8 *p = header + pos - 1;
  guint32 u = (guint32) value;

  switch (size)
    {
    case 1:
      p[0] = u & 0xff;
      break;
    case 2:
      p[0] = (u >> 8) & 0xff;
      p[1] = u & 0xff;
      break;
    default:
      p[0] = u >> 24;
      p[1] = (u >> 16) & 0xff;
      p[2] = (u >> 8) & 0xff;
      p[3] = u & 0xff;
      break;
    }
}

double
wb_segy_apply_scalar (gint32 raw,
                      gint32 scalar)
{
  if (scalar > 0)
    return (double) raw * scalar;
  if (scalar < 0)
    return (double) raw / -(double) scalar;
  return raw;
}

/* --- reading ---------------------------------------------------------- */

struct _WbSegyReader
{
  char      *path;
  segy_file *fp;
  guint64    file_size;
  gsize      n_traces;
  int        n_samples;
  double     dt;
  int        format;
  gboolean   lsb;
  long       trace0;
  int        trace_bsize;
  char      *text;
  guint8    *raw;           /* one trace of raw samples */
};

void
wb_segy_reader_free (WbSegyReader *reader)
{
  if (reader == NULL)
    return;
  if (reader->fp != NULL)
    segy_close (reader->fp);
  g_free (reader->path);
  g_free (reader->text);
  g_free (reader->raw);
  g_free (reader);
}

/* EBCDIC (code page 037) to ASCII for the printable range; the rest becomes
 * a space.  Enough for the text header, which is all we convert. */
static char
ebcdic_to_ascii (guint8 c)
{
  static const char *upper = "ABCDEFGHI";
  static const char *middle = "JKLMNOPQR";
  static const char *lower = "STUVWXYZ";

  if (c >= 0xC1 && c <= 0xC9) return upper[c - 0xC1];
  if (c >= 0xD1 && c <= 0xD9) return middle[c - 0xD1];
  if (c >= 0xE2 && c <= 0xE9) return lower[c - 0xE2];
  if (c >= 0x81 && c <= 0x89) return upper[c - 0x81] + 32;
  if (c >= 0x91 && c <= 0x99) return middle[c - 0x91] + 32;
  if (c >= 0xA2 && c <= 0xA9) return lower[c - 0xA2] + 32;
  if (c >= 0xF0 && c <= 0xF9) return '0' + (c - 0xF0);
  switch (c)
    {
    case 0x4B: return '.';
    case 0x4D: return '(';
    case 0x5D: return ')';
    case 0x4E: return '+';
    case 0x60: return '-';
    case 0x61: return '/';
    case 0x6B: return ',';
    case 0x7A: return ':';
    case 0x7D: return '\'';
    case 0x7E: return '=';
    case 0x5C: return '*';
    case 0x6D: return '_';
    default: return ' ';
    }
}

static char *
text_header_to_ascii (const guint8 *raw)
{
  char *text = g_malloc (SEGY_TEXT_HEADER_SIZE + 1);
  /* An ASCII header starts with 'C'; an EBCDIC one with 0xC3. */
  gboolean ebcdic = raw[0] == 0xC3;

  for (int i = 0; i < SEGY_TEXT_HEADER_SIZE; i++)
    {
      char c = ebcdic ? ebcdic_to_ascii (raw[i]) : (char) raw[i];
      text[i] = g_ascii_isprint (c) ? c : ' ';
    }
  text[SEGY_TEXT_HEADER_SIZE] = '\0';
  return text;
}

static gboolean
read_exact (FILE *f, guint64 offset, void *buf, gsize len)
{
  if (fseeko (f, (off_t) offset, SEEK_SET) != 0)
    return FALSE;
  return fread (buf, 1, len, f) == len;
}

WbSegyReader *
wb_segy_reader_open (const char  *path,
                     GError     **error)
{
  g_autoptr(WbSegyReader) reader = g_new0 (WbSegyReader, 1);
  g_autofree guint8 *headers = g_malloc (WB_SEGY_HEADERS_SIZE);
  GStatBuf st;
  char binheader[SEGY_BINARY_HEADER_SIZE];
  FILE *f;
  int format_msb, format_lsb, samples, interval, ext_headers;
  guint32 bom;
  guint64 data_bytes;

  g_return_val_if_fail (path != NULL, NULL);

  reader->path = g_strdup (path);
  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, WB_ERROR,
                   saved == ENOENT ? WB_ERROR_NOT_FOUND : WB_ERROR_IO,
                   "%s: %s", path, g_strerror (saved));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s: not a regular file", path);
      return NULL;
    }
  reader->file_size = st.st_size;
  if (reader->file_size < WB_SEGY_HEADERS_SIZE)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s: truncated: %" G_GUINT64_FORMAT " bytes, but a SEG-Y "
                   "file needs at least 3600 (text and binary headers)",
                   path, reader->file_size);
      return NULL;
    }

  /* Read the headers ourselves first: the byte order decides how segyio
   * must be told to read everything else. */
  f = fopen (path, "rb");
  if (f == NULL || !read_exact (f, 0, headers, WB_SEGY_HEADERS_SIZE))
    {
      int saved = errno;
      if (f != NULL)
        fclose (f);
      g_set_error (error, WB_ERROR, WB_ERROR_IO, "%s: %s", path,
                   g_strerror (saved));
      return NULL;
    }
  fclose (f);
  reader->text = text_header_to_ascii (headers);

  /* rev2 byte-order mark at 3297..3300: 0x01020304 as read big-endian. */
  bom = (guint32) wb_segy_get_int (headers + SEGY_TEXT_HEADER_SIZE, 97, 4);
  format_msb = wb_segy_get_int (headers + SEGY_TEXT_HEADER_SIZE, 25, 2);
  format_lsb = GUINT16_SWAP_LE_BE ((guint16) format_msb);
  if (bom == 0x04030201u)
    reader->lsb = TRUE;
  else if (bom != 0x01020304u && !format_supported (format_msb)
           && format_supported (format_lsb))
    reader->lsb = TRUE;

  reader->fp = segy_open (path, "rb");
  if (reader->fp == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_IO, "%s: cannot open: %s", path,
                   g_strerror (errno));
      return NULL;
    }
  if (reader->lsb)
    segy_set_format (reader->fp, format_lsb | SEGY_LSB);
  if (segy_binheader (reader->fp, binheader) != SEGY_OK)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_IO,
                   "%s: cannot read the binary header", path);
      return NULL;
    }

  reader->format = segy_format (binheader);
  if (!format_supported (reader->format))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s: unknown sample format code %d at byte 3225 of the "
                   "binary header (known: 1 IBM float, 2 32-bit integer, "
                   "3 16-bit integer, 5 IEEE float, 8 8-bit integer)",
                   path, reader->format);
      return NULL;
    }
  if (segy_set_format (reader->fp, reader->format
                       | (reader->lsb ? SEGY_LSB : SEGY_MSB)) != SEGY_OK)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s: libsegyio refuses sample format %d", path,
                   reader->format);
      return NULL;
    }

  samples = segy_samples (binheader);
  segy_get_bfield (binheader, SEGY_BIN_INTERVAL, &interval);
  segy_get_bfield (binheader, SEGY_BIN_EXT_HEADERS, &ext_headers);
  reader->trace0 = segy_trace0 (binheader);
  if (ext_headers < 0 || reader->trace0 < WB_SEGY_HEADERS_SIZE)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s: invalid count of extended text headers (%d) at byte 3505",
                   path, ext_headers);
      return NULL;
    }

  /* A zero count or interval in the binary header is common; the first
   * trace header may still say. */
  if ((samples <= 0 || interval <= 0)
      && reader->file_size >= (guint64) reader->trace0 + SEGY_TRACE_HEADER_SIZE)
    {
      char th[SEGY_TRACE_HEADER_SIZE];
      int v;

      if (segy_traceheader (reader->fp, 0, th, reader->trace0, 0) == SEGY_OK)
        {
          if (samples <= 0 && segy_get_field (th, SEGY_TR_SAMPLE_COUNT, &v) == SEGY_OK)
            samples = (guint16) v;
          if (interval <= 0 && segy_get_field (th, SEGY_TR_SAMPLE_INTER, &v) == SEGY_OK)
            interval = (guint16) v;
        }
    }
  if (samples <= 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s: no sample count: byte 3221 of the binary header and "
                   "byte 115 of the first trace header are both zero", path);
      return NULL;
    }
  if (interval <= 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s: no sample interval: byte 3217 of the binary header and "
                   "byte 117 of the first trace header are both zero", path);
      return NULL;
    }
  reader->n_samples = samples;
  reader->dt = interval * 1e-6;
  reader->trace_bsize = segy_trsize (reader->format, samples);
  g_assert (reader->trace_bsize > 0);

  if (reader->file_size < (guint64) reader->trace0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s: truncated: the headers announce %d extended text "
                   "headers but the file ends at byte %" G_GUINT64_FORMAT,
                   path, ext_headers, reader->file_size);
      return NULL;
    }
  data_bytes = reader->file_size - reader->trace0;
  {
    guint64 per_trace = SEGY_TRACE_HEADER_SIZE + (guint64) reader->trace_bsize;
    guint64 whole = data_bytes / per_trace;
    guint64 rest = data_bytes % per_trace;

    if (rest != 0)
      {
        g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                     "%s: truncated or inconsistent: %" G_GUINT64_FORMAT
                     " bytes after the headers are %" G_GUINT64_FORMAT
                     " whole traces of %" G_GUINT64_FORMAT " bytes (240 + %d "
                     "samples of %s) plus %" G_GUINT64_FORMAT " bytes",
                     path, data_bytes, whole, per_trace, samples,
                     wb_segy_format_name (reader->format), rest);
        return NULL;
      }
    if (whole > G_MAXINT)
      {
        /* libsegyio numbers traces with an int. */
        g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                     "%s: %" G_GUINT64_FORMAT " traces; at most %d can be read",
                     path, whole, G_MAXINT);
        return NULL;
      }
    if (whole == 0)
      {
        g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                     "%s: no traces after the headers", path);
        return NULL;
      }
    reader->n_traces = whole;
  }
  reader->raw = g_malloc (reader->trace_bsize);
  return g_steal_pointer (&reader);
}

gsize
wb_segy_reader_n_traces (const WbSegyReader *reader)
{
  return reader->n_traces;
}

guint
wb_segy_reader_n_samples (const WbSegyReader *reader)
{
  return reader->n_samples;
}

double
wb_segy_reader_dt (const WbSegyReader *reader)
{
  return reader->dt;
}

int
wb_segy_reader_format (const WbSegyReader *reader)
{
  return reader->format;
}

gboolean
wb_segy_reader_is_lsb (const WbSegyReader *reader)
{
  return reader->lsb;
}

const char *
wb_segy_reader_text (const WbSegyReader *reader)
{
  return reader->text;
}

guint64
wb_segy_reader_file_size (const WbSegyReader *reader)
{
  return reader->file_size;
}

gboolean
wb_segy_reader_header (WbSegyReader *reader,
                       gsize         index,
                       guint8       *header,
                       GError      **error)
{
  int rc;

  g_return_val_if_fail (index < reader->n_traces, FALSE);
  rc = segy_traceheader (reader->fp, (int) index, (char *) header,
                         reader->trace0, reader->trace_bsize);
  if (rc != SEGY_OK)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_IO,
                   "%s: cannot read the header of trace %" G_GSIZE_FORMAT
                   " (libsegyio error %d)", reader->path, index, rc);
      return FALSE;
    }
  return TRUE;
}

gboolean
wb_segy_reader_trace (WbSegyReader *reader,
                      gsize         index,
                      float        *samples,
                      GError      **error)
{
  int n = reader->n_samples;
  int rc;

  g_return_val_if_fail (index < reader->n_traces, FALSE);
  rc = segy_readtrace (reader->fp, (int) index, reader->raw, reader->trace0,
                       reader->trace_bsize);
  if (rc != SEGY_OK)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_IO,
                   "%s: cannot read trace %" G_GSIZE_FORMAT
                   " (libsegyio error %d)", reader->path, index, rc);
      return FALSE;
    }
  /* segy_to_native converts IBM to IEEE and swaps bytes; integers stay
   * integers, which we widen here. */
  segy_to_native (reader->format, n, reader->raw);
  switch (reader->format)
    {
    case WB_SEGY_IBM_FLOAT:
    case WB_SEGY_IEEE_FLOAT:
      memcpy (samples, reader->raw, sizeof (float) * n);
      break;
    case WB_SEGY_INT32:
      for (int i = 0; i < n; i++)
        {
          gint32 v;
          memcpy (&v, reader->raw + 4 * i, 4);
          samples[i] = v;
        }
      break;
    case WB_SEGY_INT16:
      for (int i = 0; i < n; i++)
        {
          gint16 v;
          memcpy (&v, reader->raw + 2 * i, 2);
          samples[i] = v;
        }
      break;
    case WB_SEGY_INT8:
      for (int i = 0; i < n; i++)
        samples[i] = (gint8) reader->raw[i];
      break;
    default:
      g_assert_not_reached ();
    }
  return TRUE;
}

void
wb_segy_geometry_free (WbSegyGeometry *geometry)
{
  if (geometry == NULL)
    return;
  g_free (geometry->sx);
  g_free (geometry->sy);
  g_free (geometry->rx);
  g_free (geometry->ry);
  g_free (geometry->delay);
  g_free (geometry);
}

WbSegyGeometry *
wb_segy_scan (WbSegyReader       *reader,
              const WbSegyLayout *layout,
              WbSegyScanFunc      progress,
              gpointer            user_data,
              GCancellable       *cancellable,
              GError            **error)
{
  g_autoptr(WbSegyGeometry) geom = NULL;
  guint8 header[SEGY_TRACE_HEADER_SIZE];
  gsize n = reader->n_traces;
  gboolean any_coordinate = FALSE;
  gboolean cdp = layout->geometry == WB_SEGY_GEOMETRY_CDP;

  if (!wb_segy_layout_check (layout, error))
    return NULL;

  geom = g_new0 (WbSegyGeometry, 1);
  geom->n_traces = n;
  geom->n_samples = reader->n_samples;
  geom->dt = reader->dt;
  geom->sx = g_new (float, n);
  geom->sy = g_new (float, n);
  geom->rx = g_new (float, n);
  geom->ry = g_new (float, n);
  geom->delay = g_new (float, n);
  geom->mid_min[0] = geom->mid_min[1] = G_MAXDOUBLE;
  geom->mid_max[0] = geom->mid_max[1] = -G_MAXDOUBLE;

  for (gsize i = 0; i < n; i++)
    {
      double sx, sy, rx, ry, mx, my, off;
      gint32 scalar, tr_samples;

      if (i % 4096 == 0)
        {
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return NULL;
          if (progress != NULL && i > 0)
            progress (i, n, user_data);
        }
      if (!wb_segy_reader_header (reader, i, header, error))
        return NULL;

      tr_samples = (guint16) wb_segy_get_int (header, SEGY_TR_SAMPLE_COUNT, 2);
      if (tr_samples != 0 && tr_samples != reader->n_samples)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "%s: inconsistent sample counts: trace %" G_GSIZE_FORMAT
                       " says %d samples (byte 115) but the file has %d per "
                       "trace (binary header byte 3221)", reader->path, i,
                       tr_samples, reader->n_samples);
          return NULL;
        }

      scalar = wb_segy_get_int (header, layout->scalar, 2);
      if (cdp)
        {
          sx = rx = wb_segy_apply_scalar (wb_segy_get_int (header, layout->cdp_x, 4), scalar);
          sy = ry = wb_segy_apply_scalar (wb_segy_get_int (header, layout->cdp_y, 4), scalar);
        }
      else
        {
          sx = wb_segy_apply_scalar (wb_segy_get_int (header, layout->source_x, 4), scalar);
          sy = wb_segy_apply_scalar (wb_segy_get_int (header, layout->source_y, 4), scalar);
          rx = wb_segy_apply_scalar (wb_segy_get_int (header, layout->receiver_x, 4), scalar);
          ry = wb_segy_apply_scalar (wb_segy_get_int (header, layout->receiver_y, 4), scalar);
        }
      if (sx != 0 || sy != 0 || rx != 0 || ry != 0)
        any_coordinate = TRUE;

      /* The first trace's source, rounded to a metre, is the local origin:
       * one pass, and local coordinates stay within the survey size. */
      if (i == 0)
        {
          geom->origin_x = round (sx);
          geom->origin_y = round (sy);
        }
      sx -= geom->origin_x;
      sy -= geom->origin_y;
      rx -= geom->origin_x;
      ry -= geom->origin_y;
      geom->sx[i] = sx;
      geom->sy[i] = sy;
      geom->rx[i] = rx;
      geom->ry[i] = ry;
      geom->delay[i] = wb_segy_get_int (header, layout->delay, 2) * 1e-3;

      mx = 0.5 * (sx + rx);
      my = 0.5 * (sy + ry);
      off = hypot (rx - sx, ry - sy);
      geom->mid_min[0] = MIN (geom->mid_min[0], mx);
      geom->mid_min[1] = MIN (geom->mid_min[1], my);
      geom->mid_max[0] = MAX (geom->mid_max[0], mx);
      geom->mid_max[1] = MAX (geom->mid_max[1], my);
      geom->max_offset = MAX (geom->max_offset, off);
    }

  if (!any_coordinate)
    {
      if (cdp)
        g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                     "%s: missing coordinates: CDP x/y (bytes %d/%d) are zero "
                     "in every trace", reader->path, layout->cdp_x,
                     layout->cdp_y);
      else
        g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                     "%s: missing coordinates: source x/y (bytes %d/%d) and "
                     "receiver x/y (bytes %d/%d) are zero in every trace",
                     reader->path, layout->source_x, layout->source_y,
                     layout->receiver_x, layout->receiver_y);
      return NULL;
    }
  if (progress != NULL)
    progress (n, n, user_data);
  return g_steal_pointer (&geom);
}

/* --- writing ---------------------------------------------------------- */

struct _WbSegyWriter
{
  char         *path;
  WbAtomicFile *file;
  FILE         *stream;
  guint         n_samples;
  int           interval_us;
  int           format;
  gsize         n_traces;
  guint8       *buffer;
};

static void
writer_free (WbSegyWriter *writer)
{
  g_free (writer->path);
  g_free (writer->buffer);
  g_free (writer);
}

static gboolean
writer_io_error (WbSegyWriter *writer, GError **error)
{
  g_set_error (error, WB_ERROR, WB_ERROR_IO, "%s: write failed: %s",
               writer->path, g_strerror (errno));
  return FALSE;
}

WbSegyWriter *
wb_segy_writer_open (const char  *path,
                     guint        n_samples,
                     double       dt,
                     int          format,
                     const char  *text,
                     GError     **error)
{
  WbSegyWriter *writer;
  char textheader[SEGY_TEXT_HEADER_SIZE];
  char binheader[SEGY_BINARY_HEADER_SIZE];
  int interval_us = (int) lround (dt * 1e6);

  if (format != WB_SEGY_IBM_FLOAT && format != WB_SEGY_IEEE_FLOAT)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "SEG-Y output: format %d unsupported (1 IBM float or 5 IEEE float)",
                   format);
      return NULL;
    }
  if (n_samples == 0 || n_samples > 65535)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "SEG-Y output: %u samples per trace; the format allows 1..65535",
                   n_samples);
      return NULL;
    }
  if (interval_us <= 0 || interval_us > 65535)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "SEG-Y output: sample interval %g s is outside 1..65535 µs",
                   dt);
      return NULL;
    }

  writer = g_new0 (WbSegyWriter, 1);
  writer->path = g_strdup (path);
  writer->n_samples = n_samples;
  writer->interval_us = interval_us;
  writer->format = format;
  writer->buffer = g_malloc (4 * (gsize) n_samples);
  writer->file = wb_atomic_file_open (path, error);
  if (writer->file == NULL)
    {
      writer_free (writer);
      return NULL;
    }
  writer->stream = wb_atomic_file_stream (writer->file);

  /* Text header: 40 lines of 80 ASCII columns ("C 1 ..."), which rev2
   * allows and every reader we know accepts. */
  memset (textheader, ' ', sizeof textheader);
  {
    g_auto(GStrv) lines = g_strsplit (text != NULL ? text
                                      : "Written by Wavebench " PACKAGE_VERSION,
                                      "\n", 40);
    for (int i = 0; i < 40; i++)
      {
        char line[81];
        const char *body = (lines[0] != NULL && i < (int) g_strv_length (lines))
                           ? lines[i] : "";
        if (i == 39 && body[0] == '\0')
          body = "END TEXTUAL HEADER";
        g_snprintf (line, sizeof line, "C%2d %-76.76s", i + 1, body);
        memcpy (textheader + 80 * i, line, 80);
      }
  }

  memset (binheader, 0, sizeof binheader);
  segy_set_bfield (binheader, SEGY_BIN_INTERVAL, interval_us);
  segy_set_bfield (binheader, SEGY_BIN_INTERVAL_ORIG, interval_us);
  segy_set_bfield (binheader, SEGY_BIN_SAMPLES, (int) n_samples);
  segy_set_bfield (binheader, SEGY_BIN_SAMPLES_ORIG, (int) n_samples);
  segy_set_bfield (binheader, SEGY_BIN_FORMAT, format);
  segy_set_bfield (binheader, SEGY_BIN_MEASUREMENT_SYSTEM, 1);
  segy_set_bfield (binheader, SEGY_BIN_SEGY_REVISION, 0x0100);
  segy_set_bfield (binheader, SEGY_BIN_TRACE_FLAG, 1);

  if (fwrite (textheader, 1, sizeof textheader, writer->stream) != sizeof textheader
      || fwrite (binheader, 1, sizeof binheader, writer->stream) != sizeof binheader)
    {
      writer_io_error (writer, error);
      wb_segy_writer_abort (writer);
      return NULL;
    }
  return writer;
}

gboolean
wb_segy_writer_add (WbSegyWriter *writer,
                    guint8       *header,
                    const float  *samples,
                    GError      **error)
{
  gsize n = writer->n_samples;
  char *h = (char *) header;

  writer->n_traces++;
  segy_set_field (h, SEGY_TR_SEQ_LINE, (int) MIN (writer->n_traces, G_MAXINT32));
  segy_set_field (h, SEGY_TR_SEQ_FILE, (int) MIN (writer->n_traces, G_MAXINT32));
  if (wb_segy_get_int (header, SEGY_TR_TRACE_ID, 2) == 0)
    segy_set_field (h, SEGY_TR_TRACE_ID, 1);
  segy_set_field (h, SEGY_TR_SAMPLE_COUNT, (int) n);
  segy_set_field (h, SEGY_TR_SAMPLE_INTER, writer->interval_us);

  memcpy (writer->buffer, samples, 4 * n);
  segy_from_native (writer->format, (long long) n, writer->buffer);
  if (fwrite (header, 1, SEGY_TRACE_HEADER_SIZE, writer->stream) != SEGY_TRACE_HEADER_SIZE
      || fwrite (writer->buffer, 4, n, writer->stream) != n)
    return writer_io_error (writer, error);
  return TRUE;
}

gsize
wb_segy_writer_n_traces (const WbSegyWriter *writer)
{
  return writer->n_traces;
}

gboolean
wb_segy_writer_commit (WbSegyWriter *writer,
                       GError      **error)
{
  gboolean ok = wb_atomic_file_commit (writer->file, error);

  writer_free (writer);
  return ok;
}

void
wb_segy_writer_abort (WbSegyWriter *writer)
{
  if (writer == NULL)
    return;
  wb_atomic_file_abort (writer->file);
  writer_free (writer);
}

gint32
wb_segy_choose_scalar (double max_abs)
{
  if (max_abs * 100.0 < G_MAXINT32)
    return -100;
  if (max_abs * 10.0 < G_MAXINT32)
    return -10;
  return 1;
}

void
wb_segy_set_coordinate (guint8 *header,
                        int     pos,
                        gint32  scalar,
                        double  value)
{
  double scaled;

  if (scalar < 0)
    scaled = value * -scalar;
  else if (scalar > 0)
    scaled = value / scalar;
  else
    scaled = value;
  wb_segy_set_int (header, pos, 4, (gint32) CLAMP (llround (scaled),
                                                     G_MININT32, G_MAXINT32));
}

gboolean
wb_segy_write_volume (const WbField *field,
                      const char    *path,
                      int            format,
                      GError       **error)
{
  gsize nx = field->shape[0], ny = field->shape[1], nt = field->shape[2];
  g_autofree float *column = g_new (float, nt);
  g_autofree char *text = NULL;
  WbSegyWriter *writer;
  double max_abs;
  gint32 scalar;
  guint8 header[SEGY_TRACE_HEADER_SIZE];
  int delay_ms = (int) lround (field->origin[2] * 1e3);

  if (field->ndim != 3 && !(field->ndim == 2 && nt == 1))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s: SEG-Y output needs an (x, y, t) volume", path);
      return FALSE;
    }
  max_abs = MAX (MAX (fabs (field->origin[0]), fabs (field->origin[0] + nx * field->spacing[0])),
                 MAX (fabs (field->origin[1]), fabs (field->origin[1] + ny * field->spacing[1])));
  scalar = wb_segy_choose_scalar (max_abs);

  text = g_strdup_printf ("Wavebench %s: %s\n"
                          "%" G_GSIZE_FORMAT " inlines (y) x %" G_GSIZE_FORMAT
                          " crosslines (x) x %" G_GSIZE_FORMAT " samples\n"
                          "bin %.3f x %.3f m, sample %.6f s, first sample %.6f s\n"
                          "CDP X/Y at bytes 181/185, scalar at 71, inline 189, crossline 193",
                          PACKAGE_VERSION, field->name, ny, nx, nt,
                          field->spacing[0], field->spacing[1], field->spacing[2],
                          field->origin[2]);
  writer = wb_segy_writer_open (path, nt, field->spacing[2], format, text, error);
  if (writer == NULL)
    return FALSE;

  for (gsize j = 0; j < ny; j++)
    for (gsize i = 0; i < nx; i++)
      {
        double x = field->origin[0] + i * field->spacing[0];
        double y = field->origin[1] + j * field->spacing[1];

        for (gsize k = 0; k < nt; k++)
          column[k] = field->data[i + nx * (j + ny * k)];
        memset (header, 0, sizeof header);
        wb_segy_set_int (header, SEGY_TR_SOURCE_GROUP_SCALAR, 2, scalar);
        wb_segy_set_coordinate (header, SEGY_TR_CDP_X, scalar, x);
        wb_segy_set_coordinate (header, SEGY_TR_CDP_Y, scalar, y);
        wb_segy_set_coordinate (header, SEGY_TR_SOURCE_X, scalar, x);
        wb_segy_set_coordinate (header, SEGY_TR_SOURCE_Y, scalar, y);
        wb_segy_set_coordinate (header, SEGY_TR_GROUP_X, scalar, x);
        wb_segy_set_coordinate (header, SEGY_TR_GROUP_Y, scalar, y);
        wb_segy_set_int (header, SEGY_TR_ENSEMBLE, 4, (gint32) (j * nx + i + 1));
        wb_segy_set_int (header, SEGY_TR_INLINE, 4, (gint32) (j + 1));
        wb_segy_set_int (header, SEGY_TR_CROSSLINE, 4, (gint32) (i + 1));
        wb_segy_set_int (header, SEGY_TR_DELAY_REC_TIME, 2, delay_ms);
        if (!wb_segy_writer_add (writer, header, column, error))
          {
            wb_segy_writer_abort (writer);
            return FALSE;
          }
      }
  return wb_segy_writer_commit (writer, error);
}
