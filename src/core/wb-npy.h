/* wb-npy.h: NumPy .npy files (format 1.0/2.0/3.0) in and out.
 *
 * Fields are written as float32 ('<f4') with fortran_order True and shape
 * (nx, ny, nz), so that NumPy's a[i, j, k] is the cell (i, j, k) with x
 * fastest in memory, exactly our layout.  The reader accepts C or Fortran
 * order, little or big endian, and dtypes f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1,
 * and converts to our layout.
 */
#pragma once

#include <glib.h>
#include "wb-field.h"

G_BEGIN_DECLS

typedef struct
{
  guint    ndim;        /* 0..3 (as in the file; 0 is a scalar) */
  gsize    shape[3];    /* logical shape in index order (i, j, k); 1 beyond ndim */
  double  *data;        /* converted values, x fastest (i fastest) */
  char     dtype[8];    /* descr as found, e.g. "<f4" */
  gboolean integer;     /* dtype is integral or bool */
} WbNpyArray;

void        wb_npy_array_free    (WbNpyArray   *array);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbNpyArray, wb_npy_array_free)

WbNpyArray *wb_npy_read          (const char   *path,
                                  GError      **error);
WbNpyArray *wb_npy_read_data     (const guint8 *data,
                                  gsize         length,
                                  const char   *name,
                                  GError      **error);

/* Serialises @field as described above. */
GBytes     *wb_npy_encode_field  (const WbField *field);
gboolean    wb_npy_write_field   (const WbField *field,
                                  const char   *path,
                                  GError      **error);

/* Writes a 2D float64 or float32 array in C order (rows, cols). */
gboolean    wb_npy_write_matrix  (const float  *data,
                                  gsize         rows,
                                  gsize         cols,
                                  const char   *path,
                                  GError      **error);

G_END_DECLS
