/* fuzz_image.c - libFuzzer harness: image and mask files (image_load, image_mask_load: header
 * bounds, then stb_image), and the CLIP pre-processing of what decodes. Reference: src/clip/image.h. */
#include "fuzz_util.h"

#include "clip/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_file(data, size, ".img");
    Image img = {0};
    Mask m = {0};
    Error err = {0};
    if (image_load(&img, path, &err) == 0 && (int64_t)img.width * img.height <= 1 << 20) {
        float *out = malloc(3 * 32 * 32 * sizeof *out);
        if (!out) abort();
        uint8_t rgb[32 * 32 * 3];
        image_resize_pil_bicubic(img.rgb, img.width, img.height, 3, rgb, 32, 32);
        image_normalize_u8(rgb, 32, 32, out);
        free(out);
    }
    image_free(&img);
    (void)image_mask_load(&m, path, &err);
    image_mask_free(&m);
    return 0;
}
