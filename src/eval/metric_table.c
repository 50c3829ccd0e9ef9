/*
 * metric_table.c - the one table of metrics (see metric_table.h).
 *
 * Reference: shared/spec/metrics.md §1-§6; the names are those of the unit metrics.tsv files and
 * paper-tables/paper_*.tsv; the `winclip metrics` keys are its historical output names.
 */
#include "eval/metric_table.h"

#define AT(field) offsetof(MetricValues, field)
#define UNIT_SUM (METRIC_UNIT | METRIC_SUMMARY)
#define PIX METRIC_PIXEL
#define ALL METRIC_CLI_ALL

const MetricInfo METRIC_TABLE[METRIC_COUNT] = {
    [METRIC_IMAGE_AUROC] = {"image_auroc", "i-AUROC", "image_auroc", AT(image.auroc), METRIC_RATIO, UNIT_SUM,
                            "ROC AUC of the image scores (sklearn roc_auc_score)", "i-AUROC"},
    [METRIC_IMAGE_AP] = {"image_ap", "i-AUPR", "image_ap", AT(image.ap), METRIC_RATIO, UNIT_SUM,
                         "step-wise average precision of the image scores"},
    [METRIC_IMAGE_F1MAX] = {"image_f1max", "i-F1max", "image_f1max", AT(image.f1max), METRIC_RATIO, UNIT_SUM,
                            "max over thresholds of the image-level F1"},
    [METRIC_PIXEL_AUROC] = {"pixel_auroc", "p-AUROC", "pixel_auroc", AT(pixel.auroc), METRIC_RATIO, UNIT_SUM | PIX,
                            "ROC AUC over every pixel of every map", "p-AUROC"},
    [METRIC_PIXEL_AP] = {"pixel_ap", "p-AUPR", "pixel_ap", AT(pixel.ap), METRIC_RATIO, UNIT_SUM | PIX,
                         "step-wise average precision over every pixel"},
    [METRIC_PIXEL_F1MAX] = {"pixel_f1max", "p-F1max", "pixel_f1max", AT(pixel.f1max), METRIC_RATIO, UNIT_SUM | PIX,
                            "max over thresholds of the pixel-level F1"},
    [METRIC_AUPRO] = {"aupro_0.3", "PRO", "pixel_aupro", AT(pixel.aupro), METRIC_RATIO, UNIT_SUM | PIX,
                      "official MVTec AUPRO to FPR 0.3 (8-connected regions), divided by 0.3", "AUPRO"},
    [METRIC_IMAGE_AUPR_TRAPZ] = {"image_aupr_trapz", NULL, "image_aupr_trapz", AT(image.aupr_trapz), METRIC_RATIO,
                                 UNIT_SUM | ALL, "informational: trapezoidal AUPR of the image scores"},
    [METRIC_PIXEL_AUPR_TRAPZ] = {"pixel_aupr_trapz", NULL, "pixel_aupr_trapz", AT(pixel.aupr_trapz), METRIC_RATIO,
                                 UNIT_SUM | PIX | ALL, "informational: trapezoidal AUPR over every pixel"},
    [METRIC_AUPRO_CFLOW200] = {"aupro_cflow200", NULL, "pixel_aupro_cflow200", AT(pixel.aupro_cflow200), METRIC_RATIO,
                               UNIT_SUM | PIX | ALL, "informational: cflow-ad cal_pro_score (200 thresholds)"},
    [METRIC_IMAGE_AUROC_MAXMAP] = {"image_auroc_maxmap", NULL, NULL, AT(image_maxmap.auroc), METRIC_RATIO, UNIT_SUM,
                                   "ROC AUC with the maximum of each map as the image score"},
    [METRIC_IMAGE_F1_THRESHOLD] = {"image_f1_threshold", NULL, "image_f1_threshold", AT(image.f1_threshold),
                                   METRIC_SCORE, METRIC_UNIT | ALL, "image score threshold reaching i-F1max"},
    [METRIC_PIXEL_F1_THRESHOLD] = {"pixel_f1_threshold", NULL, "pixel_f1_threshold", AT(pixel.f1_threshold),
                                   METRIC_SCORE, METRIC_UNIT | PIX | ALL, "map threshold reaching p-F1max"},
    [METRIC_N_IMAGES] = {"n_images", NULL, "n_images", AT(n_images), METRIC_INTEGER, METRIC_UNIT | ALL,
                         "test images"},
    [METRIC_N_ANOMALOUS] = {"n_anomalous", NULL, "n_anomalous", AT(n_anomalous), METRIC_INTEGER, METRIC_UNIT | ALL,
                            "anomalous test images"},
    [METRIC_MAP_HEIGHT] = {"map_height", NULL, NULL, AT(map_height), METRIC_INTEGER, METRIC_UNIT,
                           "map rows the pixel metrics use"},
    [METRIC_MAP_WIDTH] = {"map_width", NULL, NULL, AT(map_width), METRIC_INTEGER, METRIC_UNIT,
                          "map columns the pixel metrics use"},
    [METRIC_PRO_LIMIT] = {"pro_limit", NULL, "pro_limit", AT(pro_limit), METRIC_SCORE, PIX | ALL,
                          "FPR limit of the AUPRO"},
    [METRIC_CONNECTIVITY] = {"connectivity", NULL, "connectivity", AT(connectivity), METRIC_INTEGER, PIX | ALL,
                             "defect-region connectivity of the AUPRO (8 or 4)"},
    [METRIC_N_POS_PIXELS] = {"n_pos_pixels", NULL, "n_pos_pixels", AT(n_pos_pixels), METRIC_INTEGER, PIX | ALL,
                             "anomalous pixels"},
    [METRIC_N_REGIONS] = {"n_regions", NULL, "n_regions", AT(n_regions), METRIC_INTEGER, PIX | ALL,
                          "connected defect regions"},
};

const MetricId METRIC_MAIN_COLUMNS[METRIC_N_MAIN] = {METRIC_IMAGE_AUROC, METRIC_IMAGE_AP, METRIC_IMAGE_F1MAX,
                                                     METRIC_PIXEL_AUROC, METRIC_AUPRO,    METRIC_PIXEL_F1MAX};
const MetricId METRIC_CATEGORY_COLUMNS[METRIC_N_CATEGORY] = {METRIC_IMAGE_AUROC, METRIC_PIXEL_AUROC,
                                                             METRIC_IMAGE_F1MAX, METRIC_PIXEL_F1MAX};
const MetricId METRIC_CLI_ORDER[METRIC_N_CLI] = {
    METRIC_IMAGE_AUROC,        METRIC_IMAGE_AP,          METRIC_IMAGE_F1MAX,        METRIC_PIXEL_AUROC,
    METRIC_PIXEL_AP,           METRIC_PIXEL_F1MAX,       METRIC_AUPRO,              METRIC_IMAGE_AUPR_TRAPZ,
    METRIC_IMAGE_F1_THRESHOLD, METRIC_N_IMAGES,          METRIC_N_ANOMALOUS,        METRIC_PIXEL_AUPR_TRAPZ,
    METRIC_PIXEL_F1_THRESHOLD, METRIC_AUPRO_CFLOW200,    METRIC_PRO_LIMIT,          METRIC_CONNECTIVITY,
    METRIC_N_POS_PIXELS,       METRIC_N_REGIONS};

const char *metric_name(MetricId id)
{
    return METRIC_TABLE[id].name;
}

const char *metric_label(MetricId id)
{
    return METRIC_TABLE[id].label;
}

double metric_value(MetricId id, const MetricValues *v)
{
    return *(const double *)((const char *)v + METRIC_TABLE[id].offset);
}

void metric_values_set_pixel(MetricValues *v, const PixelMetrics *pm)
{
    v->pixel = *pm;
    v->n_pos_pixels = (double)pm->n_pos_pixels;
    v->n_regions = (double)pm->n_regions;
}
