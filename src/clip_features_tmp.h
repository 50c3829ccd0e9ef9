/*
 * clip_features_tmp.h - TEMPORARY local copy of the ClipImageFeatures contract.
 *
 * The real definition lives in src/clip_vision.h (branch `clip`). This copy exists only
 * until that branch is merged into `winclip`; it is then deleted and winclip.h includes
 * clip_vision.h instead.
 */
#ifndef WINCLIP_CLIP_FEATURES_TMP_H
#define WINCLIP_CLIP_FEATURES_TMP_H

typedef struct {
    int grid, width, embed_dim;
    int n_scales, scales[4], stride, n_windows[4];
    float *image_embedding;    /* (E)                 */
    float *tokens_ln_post;     /* (G*G, W)            */
    float *tokens_pre_ln_post; /* (G*G, W)            */
    float *windows[4];         /* (n_windows[s], E)   */
} ClipImageFeatures;

#endif
