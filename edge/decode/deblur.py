"""Blind deblurring of a straightened 1D barcode: estimate the blur from the image, undo it across the bars.

A 1D code's information is all across the bars; along them it only repeats.
So the crop (bars vertical) is first averaged along the bars into one
profile, which removes most sensor noise (low light) and any blur component
along the bars.  What is left is the bar pattern convolved with the blur's
projection across the bars: a box for belt motion (of the smear's length
times the cosine of its angle to the bars' normal), near-Gaussian for
defocus.  The box's length shows as the deepest negative peak of the
profile's cepstrum (its spectrum has zeros every 1/L); a Gaussian's width
from how fast the log power spectrum falls with frequency squared.  Each
estimate is Wiener-deconvolved and drawn back as a clean, tall symbol for
the decoder.  Deconvolution reads smears of many module widths; defocus past
a sigma of about one module width is lost, as the physics says.
"""
from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

QUIET = 24
SKEWS_DEG = (-1.5, -0.75, 0.0, 0.75, 1.5)
NSRS = (0.001, 0.0002)

MOTION = "label motion"  # what a restoration of the belt's smear (along rows) is called
MIN_SMEAR_PX = 2.0
"""The shortest smear worth undoing: under two pixels a box kernel is almost the identity, and
a decoder that failed on the picture fails on its restoration too."""


def bar_profile(crop: np.ndarray) -> np.ndarray:
    """The mean across-bar profile of the crop's central rows, at the small skew that keeps it sharpest.

    The straightened crop can be a degree off; averaging skewed bars would
    blur them, so a few shears are tried and the one with most edge energy kept.
    """
    h = crop.shape[0]
    band = crop[h // 5: h - h // 5].astype(np.float32)
    best, best_energy = band.mean(axis=0), -1.0
    for deg in SKEWS_DEG:
        prof = _sheared_mean(band, deg)
        energy = float(np.square(np.diff(prof)).sum())
        if energy > best_energy:
            best, best_energy = prof, energy
    return best


def _sheared_mean(band: np.ndarray, deg: float) -> np.ndarray:
    if deg == 0.0:
        return band.mean(axis=0)
    h = band.shape[0]
    shear = np.tan(np.radians(deg))
    m = np.float32([[1, shear, -shear * h / 2.0], [0, 1, 0]])
    warped = cv2.warpAffine(band, m, (band.shape[1], h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return warped.mean(axis=0)


def box_length(profile: np.ndarray, max_px: float) -> float | None:
    """The smear length across the bars from the profile's cepstrum; None when no clear zero pattern."""
    p = profile - profile.mean()
    n = len(p)
    if n < 32:
        return None
    spec = np.abs(np.fft.rfft(p * np.hanning(n))) + 1e-3 * float(np.abs(p).max() + 1.0)
    ceps = np.fft.irfft(np.log(spec), n)
    lo, hi = 2, int(min(max_px, n // 4))
    if hi <= lo:
        return None
    seg = ceps[lo:hi + 1]
    i = int(np.argmin(seg))
    if seg[i] > -2.5 * float(np.std(ceps[lo:n // 2])):
        return None
    j = i + lo
    if 0 < i < len(seg) - 1:  # parabolic refinement of the peak's position
        a, b, c = ceps[j - 1], ceps[j], ceps[j + 1]
        den = a - 2 * b + c
        return float(j + (0.5 * (a - c) / den if den > 1e-9 else 0.0))
    return float(j)


def gaussian_sigma(profile: np.ndarray) -> float | None:
    """The blur's sigma from the fall of the log power spectrum against frequency squared (defocus)."""
    p = profile - profile.mean()
    n = len(p)
    if n < 32:
        return None
    power = np.abs(np.fft.rfft(p * np.hanning(n))) ** 2 + 1e-6
    f = np.fft.rfftfreq(n)
    keep = (f > 0.03) & (f < 0.25)
    if keep.sum() < 6:
        return None
    slope = np.polyfit(f[keep] ** 2, np.log(power[keep]), 1)[0]
    if slope >= 0:
        return None
    sigma = float(np.sqrt(-slope / (4 * np.pi ** 2)))
    return sigma if 0.5 <= sigma <= 12.0 else None


def box_kernel(length: float) -> np.ndarray:
    """A box of fractional ``length`` px (partial end taps): the belt's smear."""
    n = int(np.ceil(length)) | 1
    k = np.ones(n, np.float32)
    k[[0, -1]] = max(0.0, 1.0 - (n - length) / 2.0)
    return k / k.sum()


def gauss_kernel(sigma: float) -> np.ndarray:
    r = int(np.ceil(3 * sigma))
    x = np.arange(-r, r + 1, dtype=np.float32)
    k = np.exp(-x * x / (2 * sigma * sigma))
    return k / k.sum()


def wiener_1d(profile: np.ndarray, kernel: np.ndarray, nsr: float) -> np.ndarray:
    """The profile Wiener-deconvolved by ``kernel`` (edges padded so the ends do not ring into the code)."""
    pad = 2 * len(kernel)
    p = np.pad(profile.astype(np.float64), pad, mode="edge")
    psf = np.zeros(len(p))
    psf[:len(kernel)] = kernel
    psf = np.roll(psf, -(len(kernel) // 2))
    h = np.fft.rfft(psf)
    out = np.fft.irfft(np.fft.rfft(p) * np.conj(h) / (np.abs(h) ** 2 + nsr), len(p))
    return out[pad:len(out) - pad]


def render(profile: np.ndarray, rows: int = 32, quiet: int = QUIET) -> np.ndarray:
    """A tall 8-bit symbol drawn from a profile (clipped, not stretched: ringing must stay small), quiet zone added."""
    line = np.pad(np.clip(profile, 0, 255), quiet, mode="constant", constant_values=255).astype(np.uint8)
    return np.repeat(line[None, :], rows, axis=0)


def restorations(crop: np.ndarray, max_px: float, prior_px: float | None = None) -> list[tuple[str, np.ndarray]]:
    """Candidate restored symbols for one straightened crop, most likely first: (what was undone, image)."""
    prof = bar_profile(crop)
    out = [("averaged", render(prof))]
    length = box_length(prof, max_px)
    near = (length, length * 1.15, length * 0.87) if length is not None else ()
    lengths = [x for x in (prior_px, *near) if x is not None and x >= MIN_SMEAR_PX]
    kernels = [(f"motion {n:.1f}px", box_kernel(n)) for n in dict.fromkeys(round(x, 1) for x in lengths)]
    sigma = gaussian_sigma(prof)
    if sigma is not None:
        kernels.append((f"defocus {sigma:.1f}px", gauss_kernel(sigma)))
    for nsr in NSRS:  # the averaged profile is quiet: little regularisation first, less next
        out += [(f"{name} nsr {nsr}", render(wiener_1d(prof, k, nsr))) for name, k in kernels]
    return out


def _wiener_rows(img: np.ndarray, kernel: np.ndarray, nsr: float) -> np.ndarray:
    """Every row of ``img`` Wiener-deconvolved by the same 1D kernel (edge-padded).

    A whole 12 MP label patch is 1,500 rows of 2,000+ pixels: OpenCV's row DFT in
    single precision, over a length with only small factors (the edge padding is
    widened to one), takes a fifth of the time of NumPy's double-precision FFT
    over whatever length the patch had (often a large prime factor).  The rows
    are real, so their spectra stay in OpenCV's packed form and the filter (the
    spectrum of a real response) is multiplied in that form too: a third of the
    time of full complex spectra (850x850: 10.0 -> 3.3 ms), the same to a millionth.
    """
    pad = 2 * len(kernel)
    n = cv2.getOptimalDFTSize(img.shape[1] + 2 * pad)
    p = cv2.copyMakeBorder(np.ascontiguousarray(img, np.float32), 0, 0, pad,
                           n - img.shape[1] - pad, cv2.BORDER_REPLICATE)
    psf = np.zeros(n)
    psf[:len(kernel)] = kernel
    h = np.fft.rfft(np.roll(psf, -(len(kernel) // 2)))
    response = np.fft.irfft(np.conj(h) / (np.abs(h) ** 2 + nsr), n).astype(np.float32)
    packed = cv2.dft(response[None, :], flags=cv2.DFT_ROWS)
    spectrum = cv2.dft(p, flags=cv2.DFT_ROWS)
    spectrum = cv2.mulSpectrums(spectrum, np.repeat(packed, p.shape[0], axis=0), cv2.DFT_ROWS)
    out = cv2.idft(spectrum, flags=cv2.DFT_ROWS | cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
    return out[:, pad:pad + img.shape[1]]


def row_box_lengths(patch: np.ndarray, max_px: float, count: int = 3) -> list[float]:
    """Candidate smears along x of a whole patch, likeliest first: the deepest minima of the cepstrum
    of the mean log spectrum of its busiest rows (one blur for every row; flat paper rows only add noise)."""
    rows = patch.astype(np.float32)
    busy = np.argsort(rows.var(axis=1))[-max(8, rows.shape[0] // 4):]
    rows = rows[busy] - rows[busy].mean(axis=1, keepdims=True)
    n = rows.shape[1]
    lo, hi = 2, int(min(max_px, n // 4))
    if n < 32 or hi <= lo:
        return []
    spec = np.log(np.abs(np.fft.rfft(rows * np.hanning(n), axis=1)) + 1.0).mean(axis=0)
    seg = np.fft.irfft(spec, n)[lo:hi + 1]
    minima = [i for i in range(1, len(seg) - 1) if seg[i] < seg[i - 1] and seg[i] <= seg[i + 1] and seg[i] < 0]
    minima.sort(key=lambda i: seg[i])
    return [float(lo + i) for i in minima[:count]]


def _smear_lengths(patch: np.ndarray, max_px: float, prior_px: float | None) -> Iterator[float]:
    """The installation's smear first; the patch's own estimates only if that did not read.

    The estimate (a cepstrum of the busiest rows) costs about half a
    restoration, and on the 12 MP bench belt the installation's smear read 13
    of the 14 labels that needed deblurring, so it is worked out only when needed.
    """
    if prior_px is not None:
        yield prior_px
    yield from row_box_lengths(patch, max_px)


def smear_restoration(patch: np.ndarray, smear_px: float) -> tuple[str, np.ndarray]:
    """The patch with a smear of ``smear_px`` along x (the belt's) undone: one restoration."""
    n = round(smear_px, 1)
    restored = _wiener_rows(patch, box_kernel(n), 0.003)  # converts 8-bit pixels; float32 as is
    return f"{MOTION} {n:.1f}px", np.clip(restored, 0, 255).astype(np.uint8)


def patch_restorations(patch: np.ndarray, max_px: float, prior_px: float | None = None,
                       prior_tried: bool = False) -> Iterator[tuple[str, np.ndarray]]:
    """A whole label patch (2D codes too) deconvolved for the belt's smear along x, and for defocus.

    The belt smears every row the same way, so the length comes from all
    rows at once; defocus is taken as Gaussian, its sigma from the patch's
    mean row spectrum, undone along rows and then columns.  One restoration
    at a time, likeliest first: a 12 MP label patch is tens of MB in floats,
    and the reader stops at the first that reads.  ``prior_tried``: the
    installation's smear was undone already (a first look), so not again.
    """
    img = patch.astype(np.float32)  # what the row DFT works in; exact for 8-bit pixels
    tried = {round(prior_px, 1)} if prior_tried and prior_px is not None else set()
    for x in _smear_lengths(patch, max_px, prior_px):
        n = round(x, 1)
        if n < MIN_SMEAR_PX or n in tried:
            continue
        tried.add(n)
        yield smear_restoration(img, n)
    sigma = gaussian_sigma(patch[::max(1, patch.shape[0] // 32)].mean(axis=0))
    if sigma is not None:
        k = gauss_kernel(sigma)
        restored = _wiener_rows(_wiener_rows(img, k, 0.003).T, k, 0.003).T
        yield f"label defocus {sigma:.1f}px", np.clip(restored, 0, 255).astype(np.uint8)
