/* fuzz-npy: the .npy reader (label maps, pressure maps, any array a user
 * hands us).
 *
 * Input: a whole .npy file.  A file that loads must have a shape whose
 * product is the element count and values we can touch; it is then written
 * back as a float32 field and read again, and must agree.
 */
#define G_LOG_DOMAIN "wb-fuzz"
#include "config.h"

#include <math.h>
#include <stdint.h>

#include "wb-error.h"
#include "wb-field.h"
#include "wb-npy.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(WbNpyArray) a = NULL;
  g_autoptr(GError) error = NULL;
  gsize n = 1;
  double sum = 0;

  wb_fuzz_init ();
  a = wb_npy_read_data (data, size, "fuzz.npy", &error);
  if (a == NULL)
    {
      wb_fuzz_check_error (error);
      return 0;
    }
  g_assert (a->ndim <= 3);
  for (guint d = 0; d < 3; d++)
    {
      g_assert (d < a->ndim || a->shape[d] == 1);
      n *= a->shape[d];
    }
  /* Every element is readable (ASan checks the bound). */
  for (gsize i = 0; i < n; i++)
    sum += a->data[i];
  (void) sum;

  if (a->ndim >= 1 && n > 0 && n <= (1u << 20))
    {
      double spacing[3] = { 1, 1, 1 };
      g_autoptr(WbField) f = wb_field_new ("x", "", a->ndim, a->shape, spacing);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(WbNpyArray) b = NULL;

      for (gsize i = 0; i < n; i++)
        f->data[i] = (float) a->data[i];
      bytes = wb_npy_encode_field (f);
      b = wb_npy_read_data (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "again.npy", &error);
      g_assert_no_error (error);
      g_assert (b->ndim == a->ndim);
      for (guint d = 0; d < 3; d++)
        g_assert (b->shape[d] == a->shape[d]);
      for (gsize i = 0; i < n; i++)
        g_assert ((isnan (b->data[i]) && isnan (f->data[i])) || b->data[i] == (double) f->data[i]);
    }
  return 0;
}
