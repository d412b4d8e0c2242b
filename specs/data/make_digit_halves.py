"""Writes digit_halves.npz, the data of specs/two_input.yaml (run from anywhere: python make_digit_halves.py).

scikit-learn's handwritten digits (1797 images of 8x8 pixels, values 0..16), each cut into its left and right
halves (8 rows of 4 pixels each): two inputs. Two targets: the digit (0..9) and whether it is 5 or more (0/1).
The file is committed (about 48 KB), so the spec trains offline without this script.
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

digits = load_digits()
images = digits.images.astype("uint8")  # (1797, 8, 8)
out = Path(__file__).resolve().parent / "digit_halves.npz"
np.savez_compressed(
    out,
    left_half=images[:, :, :4],
    right_half=images[:, :, 4:],
    digit=digits.target.astype("int64"),
    five_or_more=(digits.target >= 5).astype("float32"),
)
print(f"wrote {out} ({out.stat().st_size:,} bytes)")
