/* wb-segy.h: SEG-Y in and out through Debian's libsegyio.
 *
 * Reading is streamed: opening a file reads only its text and binary
 * headers; a header scan walks the trace headers once (with a progress
 * callback) and keeps a compact geometry table (five floats per trace);
 * samples are read on demand, a few traces at a time.  Memory therefore
 * grows with the trace count (20 bytes per trace) but never with the file
 * size.
 *
 * Coordinates of survey size (UTM: millions of metres) lose about half a
 * metre in float32, so the scan subtracts a local origin in double before
 * storing floats.
 *
 * Writing goes through WbAtomicFile: a temporary file beside the target,
 * renamed into place on commit.
 */
#pragma once

#include <gio/gio.h>
#include "wb-field.h"

G_BEGIN_DECLS

/* Sample formats (binary header byte 3225). */
typedef enum
{
  WB_SEGY_IBM_FLOAT = 1,
  WB_SEGY_INT32 = 2,
  WB_SEGY_INT16 = 3,
  WB_SEGY_IEEE_FLOAT = 5,
  WB_SEGY_INT8 = 8,
} WbSegyFormat;

typedef enum
{
  WB_SEGY_GEOMETRY_SOURCE_RECEIVER, /* source and group coordinates */
  WB_SEGY_GEOMETRY_CDP,             /* CDP coordinates, taken as zero offset */
} WbSegyGeometryMode;

/* Where the coordinates live in the 240-byte trace header: 1-based byte
 * positions of big-endian 4-byte integers, as in the SEG-Y standard. */
typedef struct
{
  int                 source_x;     /* 73 */
  int                 source_y;     /* 77 */
  int                 receiver_x;   /* 81 */
  int                 receiver_y;   /* 85 */
  int                 cdp_x;        /* 181 */
  int                 cdp_y;        /* 185 */
  int                 scalar;       /* 71, a 2-byte integer */
  int                 delay;        /* 109, a 2-byte integer in ms */
  WbSegyGeometryMode  geometry;
} WbSegyLayout;

void         wb_segy_layout_init        (WbSegyLayout *layout);
/* Checks byte positions: a 4-byte field must lie within bytes 1..237. */
gboolean     wb_segy_layout_check       (const WbSegyLayout *layout,
                                         GError      **error);

const char  *wb_segy_format_name        (int           format);

/* Big-endian integers at 1-based byte @pos of a header, @size 1, 2 or 4. */
gint32       wb_segy_get_int            (const guint8 *header,
                                         int           pos,
                                         int           size);
void         wb_segy_set_int            (guint8       *header,
                                         int           pos,
                                         int           size,
                                         gint32        value);
/* Applies a SEG-Y coordinate scalar: >0 multiplies, <0 divides, 0 is 1. */
double       wb_segy_apply_scalar       (gint32        raw,
                                         gint32        scalar);

/* --- reading ---------------------------------------------------------- */

typedef struct _WbSegyReader WbSegyReader;

/* Opens @path, checks the binary header (sample count, interval, format),
 * the byte order (rev2 byte-order mark, or a format code that only makes
 * sense byte-swapped) and that the file holds a whole number of traces.
 * Errors are WB_ERROR_INVALID with the byte positions involved, or
 * WB_ERROR_NOT_FOUND / WB_ERROR_IO for files that cannot be opened. */
WbSegyReader *wb_segy_reader_open       (const char   *path,
                                         GError      **error);
void          wb_segy_reader_free       (WbSegyReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbSegyReader, wb_segy_reader_free)

gsize         wb_segy_reader_n_traces   (const WbSegyReader *reader);
guint         wb_segy_reader_n_samples  (const WbSegyReader *reader);
/* Sample interval in seconds. */
double        wb_segy_reader_dt         (const WbSegyReader *reader);
int           wb_segy_reader_format     (const WbSegyReader *reader);
gboolean      wb_segy_reader_is_lsb     (const WbSegyReader *reader);
/* The 3200-byte text header as ASCII (EBCDIC converted), 40 lines of 80. */
const char   *wb_segy_reader_text       (const WbSegyReader *reader);
guint64       wb_segy_reader_file_size  (const WbSegyReader *reader);

/* The 240-byte header of trace @index (big-endian whatever the file). */
gboolean      wb_segy_reader_header     (WbSegyReader *reader,
                                         gsize         index,
                                         guint8       *header,
                                         GError      **error);
/* Samples of trace @index as floats (n_samples of them). */
gboolean      wb_segy_reader_trace      (WbSegyReader *reader,
                                         gsize         index,
                                         float        *samples,
                                         GError      **error);

/* Compact geometry of every trace, coordinates relative to a local origin. */
typedef struct
{
  gsize    n_traces;
  guint    n_samples;
  double   dt;              /* seconds */
  double   origin_x;        /* file coordinates of the local origin */
  double   origin_y;
  float   *sx, *sy;         /* source, local metres */
  float   *rx, *ry;         /* receiver, local metres */
  float   *delay;           /* time of the first sample, seconds */
  /* Midpoint extent, local metres. */
  double   mid_min[2];
  double   mid_max[2];
  double   max_offset;      /* metres */
} WbSegyGeometry;

void          wb_segy_geometry_free     (WbSegyGeometry *geometry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbSegyGeometry, wb_segy_geometry_free)

/* Called every few thousand traces and at the end; from the scanning thread. */
typedef void (*WbSegyScanFunc) (gsize done, gsize total, gpointer user_data);

/* Reads every trace header once.  Refuses traces whose own sample count
 * (byte 115) disagrees with the binary header, and files whose coordinates
 * at the chosen byte positions are all zero ("missing coordinates"). */
WbSegyGeometry *wb_segy_scan            (WbSegyReader *reader,
                                         const WbSegyLayout *layout,
                                         WbSegyScanFunc progress,
                                         gpointer      user_data,
                                         GCancellable *cancellable,
                                         GError      **error);

/* --- writing ---------------------------------------------------------- */

typedef struct _WbSegyWriter WbSegyWriter;

/* Starts writing @path (atomically: nothing appears there until commit).
 * @format is WB_SEGY_IBM_FLOAT or WB_SEGY_IEEE_FLOAT; @dt in seconds (it is
 * stored in whole microseconds); @text (NULL for a default) fills the text
 * header, cut into 80-column lines. */
WbSegyWriter *wb_segy_writer_open       (const char   *path,
                                         guint         n_samples,
                                         double        dt,
                                         int           format,
                                         const char   *text,
                                         GError      **error);
/* Appends a trace.  @header holds what the caller set (coordinates...);
 * the writer fills sequence numbers, sample count and interval.  It is
 * modified in place. */
gboolean      wb_segy_writer_add        (WbSegyWriter *writer,
                                         guint8       *header,
                                         const float  *samples,
                                         GError      **error);
gsize         wb_segy_writer_n_traces   (const WbSegyWriter *writer);
/* Commits (and frees) the writer. */
gboolean      wb_segy_writer_commit     (WbSegyWriter *writer,
                                         GError      **error);
/* Drops the temporary file (and frees the writer). */
void          wb_segy_writer_abort      (WbSegyWriter *writer);

/* Picks a coordinate scalar for coordinates up to @max_abs metres: -100
 * (centimetres) when they fit a 32-bit integer, else -10, else 1. */
gint32        wb_segy_choose_scalar     (double        max_abs);
/* Stores @value (metres) at @pos with @scalar, rounding to the nearest unit. */
void          wb_segy_set_coordinate    (guint8       *header,
                                         int           pos,
                                         gint32        scalar,
                                         double        value);

/* Writes a 3D field (x, y, t) as one trace per (i, j) column: CDP x/y at
 * 181/185 (field origin + spacing, in file coordinates), inline j+1 at 189,
 * crossline i+1 at 193, delay from origin[2] in ms at 109, sample interval
 * from spacing[2]. */
gboolean      wb_segy_write_volume      (const WbField *field,
                                         const char   *path,
                                         int           format,
                                         GError      **error);

G_END_DECLS
