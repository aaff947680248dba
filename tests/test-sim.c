/* The engine's solver-independent parts: dispatch, validation, field
 * access, and asynchronous snapshots that must equal a synchronous read of
 * the same step, on every backend. */
#include "config.h"

#include <string.h>

#include "wb-error.h"
#include "wb-sim.h"

static GPtrArray *devices;

static WbSim *
make_sim (WbDevice *dev)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) p = wb_preset_load ("bhte-gaussian", &error);
  WbSim *sim;

  g_assert_no_error (error);
  g_assert_true (wb_preset_set (p, "grid.shape=[24,20,16]", &error));
  sim = wb_sim_new (p, dev, NULL, &error);
  g_assert_no_error (error);
  return sim;
}

static void
test_dispatch (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) p = wb_preset_load_data ("{\"solver\": \"pstm\"}", -1, "m", NULL, &error);

  g_assert_false (wb_sim_validate (p, &error));
  g_assert_cmpstr (error->message, ==, "preset 'm': solver 'pstm' is a migration job, not a time-stepping "
                                       "simulation; run it with `wavebench-cli migrate`");
}

static void
test_fields (gconstpointer data)
{
  WbDevice *dev = (WbDevice *) data;
  g_autoptr(WbSim) sim = make_sim (dev);
  g_autoptr(GError) error = NULL;
  g_autoptr(WbField) t = NULL;
  g_autoptr(WbField) bad = NULL;

  g_assert_cmpuint (wb_sim_n_cells (sim), ==, 24 * 20 * 16);
  g_assert_true (wb_sim_step (sim, 7, &error));
  g_assert_cmpuint (sim->step, ==, 7);
  g_assert_cmpfloat_with_epsilon (wb_sim_time (sim), 7 * sim->dt, 1e-12);
  t = wb_sim_read_field (sim, sim->default_field, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (t->shape[0], ==, 24);
  g_assert_cmpuint (t->shape[1], ==, 20);
  g_assert_cmpuint (t->shape[2], ==, 16);
  bad = wb_sim_read_field (sim, "Sigma_xy", &error);
  g_assert_null (bad);
  g_assert_error (error, WB_ERROR, WB_ERROR_NOT_FOUND);
  g_assert_true (g_str_has_prefix (error->message, "solver bhte has no field 'Sigma_xy' (fields: T, "));
}

static void
test_snapshot (gconstpointer data)
{
  WbDevice *dev = (WbDevice *) data;
  g_autoptr(WbSim) sim = make_sim (dev);
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSnapshot) snap = NULL;
  g_autoptr(WbField) a = NULL;
  g_autoptr(WbField) b = NULL;
  g_autoptr(WbField) s1 = NULL;
  g_autoptr(WbField) s2 = NULL;
  g_autoptr(WbField) c = NULL;
  g_autoptr(WbField) d = NULL;
  g_autoptr(WbField) s3 = NULL;
  g_autoptr(WbField) s4 = NULL;
  guint64 step1 = 0, step2 = 0;
  gsize bytes;

  snap = wb_snapshot_new (sim, "T", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (wb_snapshot_bytes (snap), ==, 24 * 20 * 16 * sizeof (float));

  /* Capture at step 5 and at step 12 without waiting in between; read
   * the reference values synchronously from a twin simulation. */
  g_assert_true (wb_sim_step (sim, 5, &error));
  g_assert_true (wb_snapshot_capture (snap, &error));
  g_assert_true (wb_sim_step (sim, 7, &error));
  g_assert_true (wb_snapshot_capture (snap, &error));
  g_assert_cmpuint (wb_snapshot_pending (snap), ==, 2);
  /* More steps are queued while the reads are in flight. */
  g_assert_true (wb_sim_step (sim, 3, &error));

  s1 = wb_snapshot_wait (snap, &step1, &error);
  g_assert_no_error (error);
  s2 = wb_snapshot_wait (snap, &step2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (step1, ==, 5);
  g_assert_cmpuint (step2, ==, 12);
  g_assert_null (wb_snapshot_wait (snap, NULL, &error));
  g_assert_cmpstr (error->message, ==, "no read-back of 'T' is pending");
  g_clear_error (&error);

  {
    g_autoptr(WbSim) twin = make_sim (dev);
    g_assert_true (wb_sim_step (twin, 5, &error));
    a = wb_sim_read_field (twin, "T", &error);
    g_assert_true (wb_sim_step (twin, 7, &error));
    b = wb_sim_read_field (twin, "T", &error);
    g_assert_true (wb_sim_step (twin, 8, &error));
    c = wb_sim_read_field (twin, "T", &error);
    g_assert_true (wb_sim_step (twin, 5, &error));
    d = wb_sim_read_field (twin, "T", &error);
    g_assert_no_error (error);
  }
  bytes = wb_snapshot_bytes (snap);
  /* Same backend, same steps: identical bits. */
  g_assert_cmpmem (s1->data, bytes, a->data, bytes);
  g_assert_cmpmem (s2->data, bytes, b->data, bytes);
  /* And the two captures differ: the field evolved. */
  g_assert_true (memcmp (s1->data, s2->data, bytes) != 0);

  /* A collected field is the read's own (pinned) memory: while s1 and s2
   * are held, the slots read elsewhere.  Captures at 15 (dropped unseen
   * when the third is made), 20 and 25. */
  g_assert_true (wb_snapshot_capture (snap, &error));
  g_assert_true (wb_sim_step (sim, 5, &error));
  g_assert_true (wb_snapshot_capture (snap, &error));
  g_assert_true (wb_sim_step (sim, 5, &error));
  g_assert_true (wb_snapshot_capture (snap, &error));
  g_assert_no_error (error);
  s3 = wb_snapshot_wait (snap, &step1, &error);
  s4 = wb_snapshot_wait (snap, &step2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (step1, ==, 20);
  g_assert_cmpuint (step2, ==, 25);
  g_assert_cmpmem (s3->data, bytes, c->data, bytes);
  g_assert_cmpmem (s4->data, bytes, d->data, bytes);
  g_assert_cmpmem (s1->data, bytes, a->data, bytes);
  g_assert_cmpmem (s2->data, bytes, b->data, bytes);
  /* A field dropped by its caller lends its memory to the next read. */
  g_clear_pointer (&s3, wb_field_unref);
  g_assert_true (wb_sim_step (sim, 3, &error));
  g_assert_true (wb_snapshot_capture (snap, &error));
  s3 = wb_snapshot_wait (snap, &step1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (step1, ==, 28);
  g_assert_true (memcmp (s3->data, d->data, bytes) != 0);
  g_assert_cmpmem (s4->data, bytes, d->data, bytes);
  /* Fields outlive the snapshot that read them. */
  g_clear_pointer (&snap, wb_snapshot_free);
  g_assert_cmpmem (s1->data, bytes, a->data, bytes);
  g_assert_cmpmem (s4->data, bytes, d->data, bytes);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  devices = wb_device_list (NULL);
  g_test_add_func ("/wavebench/sim/dispatch", test_dispatch);
  for (guint i = 0; i < devices->len; i++)
    {
      WbDevice *d = g_ptr_array_index (devices, i);
      g_autofree char *p1 = g_strdup_printf ("/wavebench/sim/fields/%s", d->id);
      g_autofree char *p2 = g_strdup_printf ("/wavebench/sim/snapshot/%s", d->id);
      g_test_add_data_func (p1, d, test_fields);
      g_test_add_data_func (p2, d, test_snapshot);
    }
  return g_test_run ();
}
