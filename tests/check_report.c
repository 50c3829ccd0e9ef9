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
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("Limits");
    tcase_add_checked_fixture(lim, test_tmp_setup, test_tmp_teardown);
    tcase_add_test(lim, errors);
    suite_add_tcase(s, lim);
    return s;
}
