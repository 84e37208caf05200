"""The two small CNNs: a locator on the parcel thumbnail, a classifier on the mark crop.

Sized for the budget: both together a few milliseconds on one core, so the
Pi keeps its other cores for decoding and JPEG encoding.
"""
from __future__ import annotations

import torch
from torch import nn


def conv(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation,
                                   bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Locator(nn.Module):
    """Stride-8 heat map of the mark's centre, its geometry per cell, and the packaging kind.

    ``forward`` returns logits (training); :class:`LocatorExport` adds the
    squashing the manifest promises, so the unit reads values in their ranges.
    """

    def __init__(self, packagings: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv(3, 12, 2), conv(12, 16, 2), conv(16, 32, 2),
                                  conv(32, 32), conv(32, 32, dilation=2), conv(32, 32, dilation=4))
        self.heat = nn.Conv2d(32, 1, 1)
        self.geom = nn.Conv2d(32, 6, 1)
        self.packaging = nn.Linear(32, packagings)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        f = self.body(x)
        return self.heat(f), self.geom(f), self.packaging(f.mean(dim=(2, 3)))


class LocatorExport(nn.Module):
    def __init__(self, net: Locator) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        heat, geom, packaging = self.net(x)
        geom = torch.cat([torch.sigmoid(geom[:, :4]), geom[:, 4:]], dim=1)
        return torch.sigmoid(heat), geom, packaging


class MarkNet(nn.Module):
    """Label, brand and wordmark-reading logits from an upright mark crop (64 x 128).

    The last features are pooled to a 4 x 8 grid, not to one vector: where a
    stroke sits (which letter, emblem or text) is the evidence of a misspelling.
    The text head reads the wordmark left to right, one step per 8 pixels
    (CTC); training it makes the shared features encode each letter.
    """

    def __init__(self, labels: int, brands: int, alphabet: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv(3, 16, 2), conv(16, 32, 2), conv(32, 64), conv(64, 64, 2),
                                  conv(64, 96))
        self.pool = nn.AvgPool2d(2)
        self.drop = nn.Dropout(0.3)
        self.labels = nn.Linear(96 * 4 * 8, labels)
        self.brand = nn.Linear(96 * 4 * 8, brands)
        self.reader = nn.Sequential(nn.Conv2d(96, 64, (8, 3), padding=(0, 1)),
                                    nn.ReLU(inplace=True), nn.Conv2d(64, alphabet, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        grid = self.body(x)
        f = self.drop(torch.flatten(self.pool(grid), 1))
        text = self.reader(grid).squeeze(2).transpose(1, 2)  # (N, steps, alphabet)
        return self.labels(f), self.brand(f), text


class MarkExport(nn.Module):
    """What ships: labels and brand.  The reading head only teaches the features in training."""

    def __init__(self, net: MarkNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        labels, brand, _ = self.net(x)
        return labels, brand


class SurfaceNet(nn.Module):
    """Packaging logits from one square patch of the parcel's surface (edge.classify.surface).

    Each patch's mean colour is taken out first, inside the network, so what it
    learns is the material's relief and texture (bubbles, flutes, wrinkles,
    sheen), never the colour a shop happened to choose; the result is scaled
    to about one unit per 16 grey levels and clipped, as print and edges are
    much stronger than relief.
    """

    def __init__(self, packagings: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv(3, 16, 2), conv(16, 24, 2), conv(24, 32, 2), conv(32, 48),
                                  conv(48, 48, 2), conv(48, 64))
        self.drop = nn.Dropout(0.2)
        self.packaging = nn.Linear(64, packagings)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.clamp((x - x.mean(dim=(2, 3), keepdim=True)) / 16.0, -4.0, 4.0)
        return self.packaging(self.drop(self.body(x).mean(dim=(2, 3))))
