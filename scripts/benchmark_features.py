"""Time course_utils.features against scikit-image on a 512 x 512 image.

Usage, from the repository root::

    .venv/bin/python scripts/benchmark_features.py

Prints the median of repeated runs (ours and the library interleaved, so a
busy machine slows both alike) and the ratio ours / library. Goals: HoG
within 2x, LBP within 3x.
"""

import time

import numpy as np
import skimage.feature
from threadpoolctl import threadpool_limits

from course_utils import features


def compare(name, ours, library, repeats=15):
    ours(), library()  # warm up
    times = {ours: [], library: []}
    for _ in range(repeats):
        for function in (ours, library):  # interleaved
            start = time.perf_counter()
            function()
            times[function].append(1e3 * (time.perf_counter() - start))
    a, b = np.median(times[ours]), np.median(times[library])
    print(f"{name:<32} ours {a:7.1f} ms   scikit-image {b:7.1f} ms   ratio {a / b:5.2f}")


def main():
    rng = np.random.default_rng(0)
    image = rng.random((512, 512))
    image_u8 = (image * 255).astype(np.uint8)
    with threadpool_limits(1):
        compare("hog (defaults, 2x2 blocks)", lambda: features.hog(image),
                lambda: skimage.feature.hog(image, cells_per_block=(2, 2), channel_axis=None))
        for P, R in [(8, 1), (16, 2)]:
            for method in ("default", "uniform"):
                compare(f"lbp P={P} R={R} {method}", lambda: features.lbp(image_u8, P, R, method),
                        lambda: skimage.feature.local_binary_pattern(image_u8, P, R, method))


if __name__ == "__main__":
    main()
