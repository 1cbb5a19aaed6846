#!/usr/bin/python3
"""
Vision-transformer fixtures beside scripts/onnx-fixtures.py's `vit` (issue 25): a DeiT-style
VisionTransformer with a distillation token (two leading extra tokens: class, distillation; the
output is the mean of the two heads, as DeiT's `DistilledVisionTransformer` at inference), seeded,
exported at opsets 13 and 17, and its PyTorch references:

  - logits;
  - Grad-CAM at the last block's ln_1 with pytorch-grad-cam's formula and its ViT reshape_transform
    (the two extra tokens dropped, tokens → h×w);
  - attention rollout (Abnar & Zuidema 2020, jacobgil/vit-explain's formula) for four head-fusion /
    discard settings, gradient-weighted rollout (Chefer et al. 2021) and the last block's raw
    attention (class-token row over the patches, heads fused by mean / max / min), from attention
    matrices written out with the blocks' own weights (the logits are checked to be the model's).

And a reduced torchvision SwinTransformer (swin_t's code: embed 16, depths 1-1-2-1, heads 1-2-2-4,
window 4, 64×64 input, so stage grids 16, 8, 4, 2), seeded, exported at opsets 13 and 17 with
do_constant_folding (which folds the shifted-window mask), and its references: logits, Grad-CAM with
pytorch-grad-cam's formula at channels-last grids (its Swin reshape_transform, [B, h, w, C] →
[B, C, h, w]) at the final `norm`, `features.7` and `features.5`, guided backprop (no ReLU: GELU only).

Run by hand (Debian python3-torch, python3-torchvision, python3-onnx):
    /usr/bin/python3 scripts/vit-fixtures.py [out_dir]
Writes <out>/deit-op13.onnx, deit-op17.onnx, deit.json, swin-op13.onnx, swin-op17.onnx, swin.json.
"""
import importlib.util
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models import swin_transformer, vision_transformer

_spec = importlib.util.spec_from_file_location('onnx_fixtures', os.path.join(os.path.dirname(__file__), 'onnx-fixtures.py'))
fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fx)

SIZE = 48
PATCH = 8
GRID = (SIZE // PATCH, SIZE // PATCH)
EXTRA = 2


class DistilledViT(vision_transformer.VisionTransformer):
    """torchvision's VisionTransformer with DeiT's distillation token after the class token and a second head."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        hidden = kwargs['hidden_dim']
        self.dist_token = nn.Parameter(torch.zeros(1, 1, hidden))
        self.seq_length += 1
        self.encoder.pos_embedding = nn.Parameter(torch.empty(1, self.seq_length, hidden).normal_(std=0.02))
        self.head_dist = nn.Linear(hidden, kwargs['num_classes'])

    def forward(self, x):
        x = self._process_input(x)
        n = x.shape[0]
        x = torch.cat([self.class_token.expand(n, -1, -1), self.dist_token.expand(n, -1, -1), x], dim=1)
        x = self.encoder(x)
        return (self.heads(x[:, 0]) + self.head_dist(x[:, 1])) / 2


def small_deit():
    return DistilledViT(image_size=SIZE, patch_size=PATCH, num_layers=3, num_heads=3, hidden_dim=48, mlp_dim=96, num_classes=fx.CLASSES)


def raw_attention(att, fusion):
    """The last block's attention, heads fused, class-token row over the patch tokens."""
    with torch.no_grad():
        fused = {'mean': att.mean(dim=1), 'max': att.max(dim=1)[0], 'min': att.min(dim=1)[0]}[fusion][0]
    return fused[0, EXTRA:].reshape(GRID).numpy()


def grad_cam_tokens(model, x, path, target):
    store = {}

    def fwd(_m, _i, out):
        out.retain_grad()
        store['a'] = out

    h = fx.module(model, path).register_forward_hook(fwd)
    try:
        out = model(x)
        model.zero_grad()
        out[0, target].backward()
    finally:
        h.remove()
    # pytorch-grad-cam's reshape_transform: drop the extra tokens, tokens → [B, C, h, w].
    a = store['a'][:, EXTRA:, :].reshape(1, GRID[0], GRID[1], -1).permute(0, 3, 1, 2)
    g = store['a'].grad[:, EXTRA:, :].reshape(1, GRID[0], GRID[1], -1).permute(0, 3, 1, 2)
    return torch.relu((g.mean(dim=(2, 3), keepdim=True) * a).sum(dim=1))[0].detach().numpy()


def deit_fixture(seed=41):
    torch.manual_seed(1000 + seed)
    model = small_deit()
    fx.seed_everything(model, 2000 + seed)
    with torch.no_grad():
        g = torch.Generator().manual_seed(4000 + seed)
        for head in (model.heads.head, model.head_dist):
            head.weight.copy_(torch.randn(head.weight.shape, generator=g) * 0.3)
        model.class_token.copy_(torch.randn(model.class_token.shape, generator=g) * 0.5)
        model.dist_token.copy_(torch.randn(model.dist_token.shape, generator=g) * 0.5)
    model.eval()
    g = torch.Generator().manual_seed(3000 + seed)
    x = F.interpolate(torch.randn(1, 3, 6, 6, generator=g), size=(SIZE, SIZE), mode='bilinear', align_corners=False)
    with torch.no_grad():
        logits = model(x)[0]
    target = int(logits.argmax())
    path = 'encoder.layers.encoder_layer_2.ln_1'
    # The class whose map has the most positive cells (random weights often zero the top class's map).
    best = None
    for k in range(fx.CLASSES):
        cam = grad_cam_tokens(model, x, path, k)
        key = (int((cam > 1e-3 * max(float(abs(cam).max()), 1e-12)).sum()), float(cam.max()))
        if best is None or key > best[0]:
            best = (key, k, cam)
    _, cam_target, cam = best
    logits2, atts = fx.vit_attentions(model, x, target)
    diff = float((logits2[0] - logits).abs().max())
    assert diff < 1e-5, f'the written-out attention must give the model\'s logits ({diff})'
    rollouts = [{'fusion': f, 'discard': d, 'map': fx.rollout(atts, f, d, EXTRA, GRID).astype(float).tolist()}
                for f, d in (('mean', 0.0), ('mean', 0.9), ('max', 0.5), ('min', 0.2))]
    files = {}
    for opset in (13, 17):
        name = f'deit-op{opset}.onnx'
        # Exported with gradients enabled: under no_grad the fused attention has no ONNX symbolic.
        torch.onnx.export(model, x, os.path.join(fx.OUT, name), opset_version=opset, input_names=['input'], output_names=['logits'], do_constant_folding=True)
        files[str(opset)] = name
    ref = {
        'family': 'deit', 'torch': torch.__version__, 'torchvision': torchvision.__version__,
        'inputShapeNCHW': list(x.shape), 'inputNHWC': fx.b64(x[0].permute(1, 2, 0).numpy()),
        'logits': logits.numpy().astype(float).tolist(), 'target': target,
        'defaultModule': path, 'grid': list(GRID), 'extraTokens': EXTRA, 'heads': 3, 'blocks': 3,
        'cams': [{'module': path, 'target': cam_target, 'cam': cam.astype(float).tolist()}],
        'guidedNHWC': fx.b64(fx.guided_backprop(model, x, target)),
        'rollout': rollouts, 'gradRollout': fx.grad_rollout(atts, EXTRA, GRID).astype(float).tolist(),
        'rawAttention': [{'fusion': f, 'map': raw_attention(atts[-1], f).astype(float).tolist()} for f in ('mean', 'max', 'min')],
        'writtenOutLogitsMaxDiff': diff,
        'onnx': files,
    }
    with open(os.path.join(fx.OUT, 'deit.json'), 'w') as f:
        json.dump(ref, f)
    sizes = sum(os.path.getsize(os.path.join(fx.OUT, n)) for n in files.values())
    print(f'deit: top {target}, logits max {float(logits.abs().max()):.4f}, written-out attention |diff| {diff:.1e}, onnx {sizes / 1024:.0f} KiB', flush=True)


SWIN_SIZE = 64


def small_swin():
    """torchvision's SwinTransformer (swin_t's code) reduced: embed 16, depths 1-1-2-1, window 4, 64×64 (grids 16, 8, 4, 2)."""
    return swin_transformer.SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[1, 1, 2, 1], num_heads=[1, 2, 2, 4], window_size=[4, 4], stochastic_depth_prob=0.0, num_classes=fx.CLASSES)


def grad_cam_grid(model, x, path, target):
    """pytorch-grad-cam's formula at a channels-last [B, h, w, C] module output (its Swin reshape_transform: → [B, C, h, w])."""
    store = {}

    def fwd(_m, _i, out):
        out.retain_grad()
        store['a'] = out

    h = fx.module(model, path).register_forward_hook(fwd)
    try:
        out = model(x)
        model.zero_grad()
        out[0, target].backward()
    finally:
        h.remove()
    a = store['a'].permute(0, 3, 1, 2)
    g = store['a'].grad.permute(0, 3, 1, 2)
    return torch.relu((g.mean(dim=(2, 3), keepdim=True) * a).sum(dim=1))[0].detach().numpy()


def swin_fixture(seed=43):
    torch.manual_seed(1000 + seed)
    model = small_swin()
    fx.seed_everything(model, 2000 + seed)
    with torch.no_grad():
        g = torch.Generator().manual_seed(4000 + seed)
        model.head.weight.copy_(torch.randn(model.head.weight.shape, generator=g) * 0.3)
    model.eval()
    g = torch.Generator().manual_seed(3000 + seed)
    x = F.interpolate(torch.randn(1, 3, 8, 8, generator=g), size=(SWIN_SIZE, SWIN_SIZE), mode='bilinear', align_corners=False)
    with torch.no_grad():
        logits = model(x)[0]
    target = int(logits.argmax())
    cams = []
    # The final LayerNorm's grid (`norm`, [1, 2, 2, 64]: the last stage's output normalised, the last grid
    # before the pooling, the app's default), the last stage's own output (features.7) and the third
    # stage's (features.5, 4×4); for each, the class whose map has the most positive cells (random
    # weights often zero the top class's map).
    for path in ('norm', 'features.7', 'features.5'):
        best = None
        for k in range(fx.CLASSES):
            cam = grad_cam_grid(model, x, path, k)
            key = (int((cam > 1e-3 * max(float(abs(cam).max()), 1e-12)).sum()), float(cam.max()))
            if best is None or key > best[0]:
                best = (key, k, cam)
        cams.append({'module': path, 'target': best[1], 'cam': best[2].astype(float).tolist()})
    files = {}
    for opset in (13, 17):
        name = f'swin-op{opset}.onnx'
        try:
            torch.onnx.export(model, x, os.path.join(fx.OUT, name), opset_version=opset, input_names=['input'], output_names=['logits'], do_constant_folding=True)
            files[str(opset)] = name
        except Exception as e:  # noqa: BLE001 -- an opset the exporter cannot do is reported, not fatal
            print(f'swin: opset {opset} does not export: {e}', flush=True)
    ref = {
        'family': 'swin', 'torch': torch.__version__, 'torchvision': torchvision.__version__,
        'inputShapeNCHW': list(x.shape), 'inputNHWC': fx.b64(x[0].permute(1, 2, 0).numpy()),
        'logits': logits.numpy().astype(float).tolist(), 'target': target,
        'defaultModule': 'norm', 'cams': cams,
        'guidedNHWC': fx.b64(fx.guided_backprop(model, x, target)),
        'onnx': files,
    }
    with open(os.path.join(fx.OUT, 'swin.json'), 'w') as f:
        json.dump(ref, f)
    sizes = ', '.join(f'{n} {os.path.getsize(os.path.join(fx.OUT, n)) / 1024:.0f} KiB' for n in files.values())
    print(f'swin: top {target}, logits max {float(logits.abs().max()):.4f}, {sizes}', flush=True)


if __name__ == '__main__':
    os.makedirs(fx.OUT, exist_ok=True)
    deit_fixture()
    swin_fixture()
