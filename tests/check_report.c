/*
 * check_report.c - tests for report.c on a hand-made results tree: category means, seed mean
 * ± population std, unfinished units ignored, paper look-ups, tables; error paths.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report.h"
#include "check_suites.h"
#include "test_util.h"


static void unit(const char *exp, const char *ds, const char *cat, int k, int seed, double i_auroc, double p_auroc,
                 int done)
{
    Error err = {0};
    char *root = xasprintf("%s/results", test_tmp);
    char *dir = results_unit_dir(root, exp, ds, cat, k, seed);
    ck_assert_int_eq(fs_mkdirs(dir, &err), 0);
    MetricSet m = {0};
    results_metric_add(&m, "image_auroc", i_auroc);
    results_metric_add(&m, "pixel_auroc", p_auroc);
    results_metric_add(&m, "aupro_0.3", NAN);
    ck_assert_int_eq(results_write_metrics(dir, &m, &err), 0);
    if (done) ck_assert_int_eq(results_mark_done(dir, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &err), 0);
    free(dir);
    free(root);
}

static void paper_dir(PaperTables *p)
{
    char path[1024];
    /* the committed paper tables, read in place from the source tree */
    snprintf(path, sizeof path, "%s", "paper-tables");
    Error err = {0};
    ck_assert_msg(report_paper_load(p, path, &err) == 0, "%s", err.msg);
}

START_TEST(means_and_seed_std)
{
    unit("E1", "mvtec", "bottle", 0, 0, 0.90, 0.80, 1);
    unit("E1", "mvtec", "carpet", 0, 0, 1.00, 0.90, 1);
    unit("E1", "mvtec", "zipper", 0, 0, 0.10, 0.10, 0); /* unfinished: ignored */
    unit("E1", "mvtec", "bottle", 1, 0, 0.90, 0.90, 1);
    unit("E1", "mvtec", "carpet", 1, 0, 0.70, 0.90, 1); /* seed 0 mean 0.80 */
    unit("E1", "mvtec", "bottle", 1, 1, 1.00, 0.90, 1);
    unit("E1", "mvtec", "carpet", 1, 1, 0.80, 0.90, 1); /* seed 1 mean 0.90 */
    char *root = xasprintf("%s/results", test_tmp);
    ReportExperiment e;
    Error err = {0};
    ck_assert_msg(report_load_experiment(&e, root, "experiments/E1.conf", &err) == 0, "%s", err.msg);
    ck_assert_str_eq(e.name, "E1");
    ck_assert_str_eq(e.table, "main");
    ck_assert_int_eq(e.n_units, 6);
    int n;
    ck_assert_double_eq_tol(report_category_mean(&e, "mvtec", 0, 0, "image_auroc", &n), 0.95, 1e-12);
    ck_assert_int_eq(n, 2);
    ck_assert(isnan(report_category_mean(&e, "mvtec", 0, 0, "aupro_0.3", &n)));
    ck_assert_int_eq(n, 0);
    double mean, sd;
    ck_assert_int_eq(report_seed_stats(&e, "mvtec", 1, "image_auroc", &mean, &sd), 2);
    ck_assert_double_eq_tol(mean, 0.85, 1e-12);
    ck_assert_double_eq_tol(sd, 0.05, 1e-12); /* population std of {0.80, 0.90} */

    PaperTables paper;
    paper_dir(&paper);
    double pv, psd;
    int unv;
    ck_assert(report_paper_mean(&paper, "mvtec", 0, "image_auroc", &pv, &psd, &unv));
    ck_assert(pv == 91.8 && !unv);
    ck_assert(report_paper_mean(&paper, "visa", 2, "pixel_f1max", &pv, &psd, &unv));
    ck_assert(pv == 43.5 && psd == 3.3 && unv);
    ck_assert(report_paper_category(&paper, "mvtec", "bottle", "pixel_auroc", &pv, &unv));
    ck_assert(pv == 89.5);
    ck_assert(!report_paper_category(&paper, "mvtec", "bottle", "aupro_0.3", &pv, &unv));

    ck_assert_int_eq(report_write_summary(&e, root, &paper, &err), 0);
    char *path = xasprintf("%s/E1/summary.tsv", root);
    char *text = test_read_file(path, NULL);
    ck_assert_msg(strstr(text, "mvtec\t0\t0\tmean\t2\t0.95\t") && strstr(text, "mvtec\t1\tstd_pop\tmean\t2\t0.05"),
                  "%s", text);
    free(text);
    free(path);
    path = xasprintf("%s/E1/summary.md", root);
    text = test_read_file(path, NULL);
    ck_assert_msg(strstr(text, "| bottle | 90.0 (99.2*, -9.2) |") && strstr(text, "85.0±5.0 (93.1±2.0, -8.1)"), "%s",
                  text);
    free(text);
    free(path);

    ReportTally tally = {0};
    char *out = xasprintf("%s/tables", test_tmp);
    ck_assert_int_eq(report_write_paper_tables(&e, 1, &paper, out, &tally, &err), 0);
    path = xasprintf("%s/table1_zero_shot.md", out);
    text = test_read_file(path, NULL);
    ck_assert_msg(text && strstr(text, "| MVTec AD | E1 | 0 | 95.0 (91.8, +3.2) |"), "%s", text ? text : "(none)");
    ck_assert_msg(strstr(text, "**Table 1: WinCLIP zero-shot, unweighted mean over categories**"), "%s", text);
    free(text);
    free(path);
    path = xasprintf("%s/table2_few_shot.tex", out);
    text = test_read_file(path, NULL);
    ck_assert_msg(text && strstr(text, "85.0$\\pm$5.0 (93.1$\\pm$2.0, -8.1)") && strstr(text, "\\begin{tabular}"),
                  "%s", text ? text : "(none)");
    free(text);
    free(path);
    path = xasprintf("%s/table4_ablations.md", out);
    ck_assert_ptr_null(test_read_file(path, NULL)); /* no ablation experiment: not written */
    free(path);
    ck_assert(tally.n_compared > 0 && tally.n_within < tally.n_compared);
    ck_assert(strstr(tally.misses, "table1 MVTec AD K=0 i-AUROC: 95.0 vs 91.8 (+3.2)") != NULL);
    free(out);
    report_paper_free(&paper);
    report_experiment_free(&e);
    free(root);
}
END_TEST

/* config.resolved of a unit: the plan the report checks completeness against. */
static void plan_file(const char *exp, const char *ds, const char *cat, int k, int seed, const char *text)
{
    char *root = xasprintf("%s/results", test_tmp);
    char *dir = results_unit_dir(root, exp, ds, cat, k, seed);
    char *path = xasprintf("%s/config.resolved", dir);
    test_write_file(path, text, strlen(text));
    free(path);
    free(dir);
    free(root);
}

START_TEST(run_states)
{
    const char *plan = "dataset = mvtec\ncategories = \"bottle,cable,zipper\"\nk_shots = \"0,1,2\"\nseeds = \"0,1\"\n";
    unit("E5", "mvtec", "bottle", 0, 0, 0.9, 0.8, 1);
    unit("E5", "mvtec", "cable", 0, 0, 0.7, 0.8, 1);
    unit("E5", "mvtec", "zipper", 0, 0, 0.8, 0.8, 1);
    unit("E5", "mvtec", "bottle", 1, 0, 0.9, 0.8, 1);
    unit("E5", "mvtec", "bottle", 1, 1, 0.9, 0.8, 0); /* unfinished */
    /* the plan is the first unit's (mvtec/bottle/k0 after sorting); written after the done marker, so
     * the unit's hash list does not cover it: the report reads it only for the plan */
    plan_file("E5", "mvtec", "bottle", 0, 0, plan);
    char *root = xasprintf("%s/results", test_tmp);
    ReportExperiment e;
    Error err = {0};
    ck_assert_msg(report_load_or_plan(&e, root, test_tmp, "E5", &err) == 0, "%s", err.msg);
    ck_assert(e.has_plan && e.plan_n_categories == 3 && e.plan_n_seeds == 2 && e.plan_n_k == 3);
    int done, planned;
    char buf[256];
    ck_assert_int_eq(report_row_state(&e, "mvtec", 0, &done, &planned), REPORT_RUN_COMPLETE);
    ck_assert(done == 3 && planned == 3);
    ck_assert_int_eq(report_row_status(&e, "mvtec", 0, buf, sizeof buf), REPORT_RUN_COMPLETE);
    ck_assert_str_eq(buf, "complete (3 categories)");
    ck_assert_int_eq(report_row_state(&e, "mvtec", 1, &done, &planned), REPORT_RUN_PARTIAL);
    ck_assert(done == 1 && planned == 6);
    report_row_status(&e, "mvtec", 1, buf, sizeof buf);
    ck_assert_str_eq(buf, "PARTIAL: 1 of 6 units (`winclip run E5` finishes it)");
    ck_assert_int_eq(report_row_state(&e, "mvtec", 2, &done, &planned), REPORT_RUN_NOT_RUN);
    report_row_status(&e, "mvtec", 2, buf, sizeof buf);
    ck_assert_str_eq(buf, "not run (`winclip run E5`)");
    ReportDsK dk[8];
    ck_assert_int_eq(report_rows_of(&e, dk, 8), 3); /* K = 2 planned, no unit: still a row */
    ck_assert(dk[2].k == 2 && strcmp(dk[2].dataset, "mvtec") == 0);
    ck_assert(isnan(report_row_value(&e, "mvtec", 2, "image_auroc", NULL)));
    report_experiment_free(&e);

    /* no plan in the units (no config.resolved): the count, never "complete" */
    unit("E6", "mvtec", "bottle", 0, 0, 0.9, 0.8, 1);
    ck_assert_int_eq(report_load_or_plan(&e, root, test_tmp, "E6", &err), 0);
    ck_assert_int_eq(report_row_status(&e, "mvtec", 0, buf, sizeof buf), REPORT_RUN_UNKNOWN);
    ck_assert_str_eq(buf, "1 units (plan unknown: no config.resolved)");
    report_experiment_free(&e);
    /* a config.resolved without the plan keys: no plan either, not an error */
    unit("E9", "mvtec", "bottle", 0, 0, 0.9, 0.8, 1);
    plan_file("E9", "mvtec", "bottle", 0, 0, "dataset = mvtec\n");
    ck_assert_msg(report_load_or_plan(&e, root, test_tmp, "E9", &err) == 0, "%s", err.msg);
    ck_assert(!e.has_plan);
    ck_assert_int_eq(report_row_state(&e, "mvtec", 0, NULL, NULL), REPORT_RUN_UNKNOWN);
    report_experiment_free(&e);
    /* a malformed plan value is an error naming the file */
    plan_file("E9", "mvtec", "bottle", 0, 0, "dataset = mvtec\ncategories = bottle\nk_shots = x\n");
    ck_assert_int_ne(report_load_or_plan(&e, root, test_tmp, "E9", &err), 0);
    ck_assert_msg(strstr(err.msg, "config.resolved") && strstr(err.msg, "k_shots"), "%s", err.msg);

    /* not run: metadata and plan from <experiments>/E7.conf */
    char *conf = xasprintf("%s/E7.conf", test_tmp);
    const char *text = "title = \"seven\"\ntable = ablation\nablation = cpe\nvariant = states\ndataset = visa\n"
                       "categories = candle,pcb2\nk_shots = 0\n";
    test_write_file(conf, text, strlen(text));
    ck_assert_msg(report_load_or_plan(&e, root, test_tmp, "E7", &err) == 0, "%s", err.msg);
    ck_assert(e.n_units == 0 && strcmp(e.table, "ablation") == 0 && strcmp(e.variant, "states") == 0);
    ck_assert(strcmp(e.title, "seven") == 0 && e.plan_n_categories == 2 && strcmp(e.plan_dataset, "visa") == 0);
    ck_assert_int_eq(report_rows_of(&e, dk, 8), 1);
    ck_assert_int_eq(report_row_state(&e, "visa", 0, &done, &planned), REPORT_RUN_NOT_RUN);
    ck_assert(done == 0 && planned == 2);
    report_experiment_free(&e);
    /* the same through a path to the .conf */
    ck_assert_int_eq(report_load_or_plan(&e, root, "nowhere", conf, &err), 0);
    ck_assert_str_eq(e.name, "E7");
    report_experiment_free(&e);
    /* neither results nor a file */
    ck_assert_int_eq(report_load_or_plan(&e, root, test_tmp, "E8", &err), ERR_MISSING);
    ck_assert_msg(strstr(err.msg, "no experiment file") && strstr(err.msg, "E8.conf"), "%s", err.msg);
    free(conf);
    free(root);
}
END_TEST

START_TEST(footnotes)
{
    ReportFootnotes fn = {0};
    char mark[16], notes[256] = "Notes.";
    report_footnote(&fn, "ours: one", mark, sizeof mark);
    ck_assert_str_eq(mark, "[1]");
    report_footnote(&fn, "", mark, sizeof mark);
    ck_assert_str_eq(mark, "");
    report_footnote(&fn, "ours: two", mark, sizeof mark);
    ck_assert_str_eq(mark, "[2]");
    report_footnote(&fn, "ours: one", mark, sizeof mark);
    ck_assert_str_eq(mark, "[1]");
    report_footnotes_append(&fn, notes, sizeof notes);
    ck_assert_str_eq(notes, "Notes. [1] ours: one. [2] ours: two.");
    report_footnotes_free(&fn);
    ck_assert_int_eq(fn.n, 0);
}
END_TEST

START_TEST(errors)
{
    Error err = {0};
    ReportExperiment e;
    char *root = xasprintf("%s/results", test_tmp);
    ck_assert_int_eq(report_load_experiment(&e, root, "nothing", &err), ERR_MISSING);
    ck_assert_msg(strstr(err.msg, "winclip run nothing") != NULL, "%s", err.msg);
    unit("E2", "mvtec", "bottle", 0, 0, 0.5, 0.5, 0);
    ck_assert_int_eq(report_load_experiment(&e, root, "E2", &err), ERR_MISSING);
    ck_assert(strstr(err.msg, "no finished unit") != NULL);
    /* corrupt metrics in a finished unit */
    unit("E3", "mvtec", "bottle", 0, 0, 0.5, 0.5, 1);
    char *m = xasprintf("%s/E3/mvtec/bottle/k0/metrics.tsv", root);
    test_write_file(m, "metric\tvalue\nimage_auroc\tx\n", 26);
    ck_assert_int_eq(report_load_experiment(&e, root, "E3", &err), ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "not intact (metrics.tsv has 26 bytes") != NULL, "%s", err.msg);
    /* the same file recorded as finished by the done marker: the parser names the line */
    char *udir = xasprintf("%s/E3/mvtec/bottle/k0", root);
    ck_assert_int_eq(results_mark_done(udir, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &err), 0);
    ck_assert_int_eq(report_load_experiment(&e, root, "E3", &err), ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "metrics.tsv:2") != NULL, "%s", err.msg);
    free(udir);
    free(m);
    /* bad paper folder / file */
    PaperTables p;
    ck_assert_int_eq(report_paper_load(&p, test_tmp, &err), ERR_MISSING);
    ck_assert(strstr(err.msg, "paper_zero_shot.tsv") != NULL);
    Tsv t;
    char *bad = xasprintf("%s/bad.tsv", test_tmp);
    test_write_file(bad, "a\tb\n1\t2\n3\n", 10);
    ck_assert_int_eq(tsv_load(&t, bad, &err), ERR_FORMAT);
    ck_assert(strstr(err.msg, "bad.tsv:3: expected 2") != NULL);
    free(bad);
    free(root);
}
END_TEST

START_TEST(mean_std_population)
{
    double mean, sd;
    const double v[] = {2, 4, 4, 4, 5, 5, 7, 9};
    ck_assert_int_eq(report_mean_std(v, 8, &mean, &sd), 8);
    ck_assert_double_eq_tol(mean, 5.0, 1e-12);
    ck_assert_double_eq_tol(sd, 2.0, 1e-12); /* ddof = 0; ddof = 1 would give 2.138 */
    ck_assert_int_eq(report_mean_std(v, 1, &mean, &sd), 1);
    ck_assert(mean == 2.0 && sd == 0.0);
    ck_assert_int_eq(report_mean_std(v, 0, &mean, &sd), 0);
    ck_assert(isnan(mean) && isnan(sd));
}
END_TEST

Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *core = tcase_create("Core");
    tcase_add_checked_fixture(core, test_tmp_setup, test_tmp_teardown);
    tcase_add_test(core, means_and_seed_std);
    tcase_add_test(core, mean_std_population);
    tcase_add_test(core, run_states);
    tcase_add_test(core, footnotes);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_checked_fixture(lim, test_tmp_setup, test_tmp_teardown);
    tcase_add_test(lim, errors);
    suite_add_tcase(s, lim);
    return s;
}
