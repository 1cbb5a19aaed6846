#!/usr/bin/python3
"""
Makes the ONNX test fixtures (issue 24): reduced-width torchvision models with seeded weights and
seeded BatchNorm statistics (no download), exported with torch.onnx.export at opsets 13 and 17, and
their reference outputs computed in PyTorch itself:

  - logits for one seeded input,
  - Grad-CAM (pytorch-grad-cam's formula: forward hook on the module for A, its gradient for dY/dA,
    weights = mean over h×w, cam = relu(sum_c w_c A_c)) at the default module a pytorch-grad-cam
    user picks and at one inner module, for the top class, not resized, not normalised,
  - guided backprop (the ReLU backward rule: the gradient through every ReLU / ReLU6 clamped at 0)
    of the top logit with respect to the input.

Run by hand (Debian python3-torch 1.13, python3-torchvision, python3-onnx):
    /usr/bin/python3 scripts/onnx-fixtures.py [out_dir]
Writes <out>/<family>-op13.onnx, <family>-op17.onnx, <family>.json (references, input and guided
map as base64 float32, NHWC order like the app's tensors).
"""
import base64
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models import convnext, efficientnet, mobilenetv3, regnet, resnet, squeezenet, vision_transformer

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'test-fixtures', 'onnx')
SIZE = 112
CLASSES = 10


class SmallResNet(resnet.ResNet):
    """torchvision's ResNet-18 code (BasicBlock, [2, 2, 2, 2]) with every stage 1/8 as wide."""

    def _make_layer(self, block, planes, *args, **kwargs):
        return super()._make_layer(block, planes // 8, *args, **kwargs)


def small_resnet18():
    m = SmallResNet(resnet.BasicBlock, [2, 2, 2, 2], num_classes=CLASSES)
    m.fc = nn.Linear(64 // 8 * 8, CLASSES)
    return m


def small_squeezenet():
    original = squeezenet.Fire

    def quarter_fire(inplanes, squeeze, e1, e3):
        return original(inplanes // 4, squeeze // 4, e1 // 4, e3 // 4)

    squeezenet.Fire = quarter_fire
    try:
        m = squeezenet.SqueezeNet('1_1', num_classes=CLASSES)
    finally:
        squeezenet.Fire = original
    m.features[0] = nn.Conv2d(3, 16, kernel_size=3, stride=2)
    final = nn.Conv2d(128, CLASSES, kernel_size=1)
    m.classifier[1] = final
    return m


def small_efficientnet_b0():
    setting, last = efficientnet._efficientnet_conf('efficientnet_b0', width_mult=0.25, depth_mult=0.5)
    return efficientnet.EfficientNet(setting, 0.2, num_classes=CLASSES, last_channel=last)


def small_mobilenet_v3_small():
    setting, last = mobilenetv3._mobilenet_v3_conf('mobilenet_v3_small', width_mult=0.25)
    return mobilenetv3.MobileNetV3(setting, last // 4, num_classes=CLASSES)


def small_regnet_y_400mf():
    params = regnet.BlockParams.from_init_params(depth=6, w_0=16, w_a=8.0, w_m=2.0, group_width=8, se_ratio=0.25)
    return regnet.RegNet(params, num_classes=CLASSES, stem_width=16)


def small_convnext_tiny():
    cfg = convnext.CNBlockConfig
    setting = [cfg(16, 32, 1), cfg(32, 64, 1), cfg(64, 128, 2), cfg(128, None, 1)]
    return convnext.ConvNeXt(setting, stochastic_depth_prob=0.0, layer_scale=0.5, num_classes=CLASSES)


# family → (builder, default module (pytorch-grad-cam's usual choice), inner module)
FAMILIES = {
    'resnet18': (small_resnet18, 'layer4', 'layer3'),
    'mobilenet_v2': (lambda: torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=CLASSES), 'features.18', 'features.10'),
    'mobilenet_v3_small': (small_mobilenet_v3_small, 'features.12', 'features.6'),
    'efficientnet_b0': (small_efficientnet_b0, 'features.8', 'features.4'),
    # torchvision's DenseNet applies F.relu(inplace=True) to `features`' output outside any module, so
    # a hook on `features` (pytorch-grad-cam's features[-1]) sees that ReLU's output: so does the app's default.
    'densenet121': (lambda: torchvision.models.DenseNet(growth_rate=8, block_config=(2, 3, 4, 2), num_init_features=16, bn_size=2, num_classes=CLASSES), 'features', 'features.denseblock3'),
    'regnet_y_400mf': (small_regnet_y_400mf, 'trunk_output.block3', 'trunk_output.block2'),
    'squeezenet1_1': (small_squeezenet, 'classifier.2', 'features.7'),  # the class-map ReLU is the last spatial map
    'convnext_tiny': (small_convnext_tiny, 'features.7', 'features.5'),
}


def seed_everything(model, seed):
    """Seeded weights and BatchNorm statistics, so folding BN into Conv is not a no-op."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
                mod.running_var.copy_(torch.rand(c, generator=g) + 0.5)
                mod.weight.copy_(torch.rand(c, generator=g) + 0.5)
                mod.bias.copy_(torch.randn(c, generator=g) * 0.1)
            elif isinstance(mod, nn.LayerNorm):
                mod.weight.copy_(torch.rand(mod.weight.shape, generator=g) + 0.5)
                mod.bias.copy_(torch.randn(mod.bias.shape, generator=g) * 0.1)
            elif isinstance(mod, nn.Linear) and mod.bias is not None:
                mod.bias.copy_(torch.randn(mod.bias.shape, generator=g) * 0.1)
    for mod in model.modules():
        if hasattr(mod, 'inplace'):
            mod.inplace = False  # hooks and guided backprop need the pre-activation kept


def module(model, path):
    m = model
    for part in path.split('.'):
        m = getattr(m, part)
    return m


def grad_cam(model, x, path, target):
    store = {}

    def fwd(_m, _i, out):
        out.retain_grad()
        store['a'] = out

    h = module(model, path).register_forward_hook(fwd)
    try:
        logits = model(x)
        model.zero_grad()
        logits[0, target].backward()
    finally:
        h.remove()
    a = store['a']
    weights = a.grad.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * a).sum(dim=1))[0]
    return cam.detach().numpy(), list(a.shape)


class GuidedRelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, cap):
        ctx.save_for_backward(x)
        ctx.cap = cap
        return x.clamp(0, cap) if cap is not None else x.clamp(min=0)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        mask = (x > 0) if ctx.cap is None else (x > 0) & (x <= ctx.cap)
        return (dy * mask).clamp(min=0), None


def guided_backprop(model, x, target):
    """The ReLU backward hook rule, applied to module and functional ReLUs alike (DenseNet's last ReLU is F.relu)."""
    relu, hardtanh = F.relu, F.hardtanh
    F.relu = lambda t, inplace=False: GuidedRelu.apply(t, None)
    F.hardtanh = lambda t, min_val=-1.0, max_val=1.0, inplace=False: GuidedRelu.apply(t, max_val) if min_val == 0.0 else hardtanh(t, min_val, max_val)
    try:
        xi = x.clone().requires_grad_(True)
        logits = model(xi)
        logits[0, target].backward()
    finally:
        F.relu, F.hardtanh = relu, hardtanh
    return xi.grad[0].permute(1, 2, 0).numpy()


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype='<f4').tobytes()).decode('ascii')


VIT_SIZE = 64
VIT_PATCH = 8


def small_vit():
    """torchvision's VisionTransformer, ViT-B/16's code with 3 layers, 2 heads, 32 dims, 8×8 patches of 64×64."""
    m = vision_transformer.VisionTransformer(image_size=VIT_SIZE, patch_size=VIT_PATCH, num_layers=3, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=CLASSES)
    return m


def manual_attention(mha, x):
    """nn.MultiheadAttention's forward written out (batch first), keeping the attention matrix [B, heads, N, N]."""
    b, n, e = x.shape
    h = mha.num_heads
    qkv = x @ mha.in_proj_weight.T + mha.in_proj_bias
    q, k, v = (t.reshape(b, n, h, e // h).transpose(1, 2) for t in qkv.split(e, dim=-1))
    att = torch.softmax(q @ k.transpose(-1, -2) / (e // h) ** 0.5, dim=-1)
    out = (att @ v).transpose(1, 2).reshape(b, n, e)
    return att, out @ mha.out_proj.weight.T + mha.out_proj.bias


def vit_attentions(model, x, target):
    """Logits, each block's attention and its gradient for `target`, with the blocks' attention written out."""
    atts = []

    def block_forward(block, inp):
        att, out = manual_attention(block.self_attention, block.ln_1(inp))
        att.retain_grad()
        atts.append(att)
        y = block.dropout(out) + inp
        return y + block.mlp(block.ln_2(y))

    originals = []
    for block in model.encoder.layers:
        originals.append(block.forward)
        block.forward = (lambda blk: (lambda inp: block_forward(blk, inp)))(block)
    try:
        logits = model(x)
        model.zero_grad()
        logits[0, target].backward()
    finally:
        for block, f in zip(model.encoder.layers, originals):
            block.forward = f
    return logits.detach(), atts


def rollout(atts, fusion, discard, extra, grid):
    """Attention rollout (Abnar & Zuidema 2020) as jacobgil/vit-explain writes it."""
    n = atts[0].shape[-1]
    result = torch.eye(n)
    with torch.no_grad():
        for att in atts:
            fused = {'mean': att.mean(dim=1), 'max': att.max(dim=1)[0], 'min': att.min(dim=1)[0]}[fusion][0]
            flat = fused.reshape(-1).clone()
            k = int(flat.numel() * discard)
            if k > 0:
                idx = flat.topk(k, largest=False).indices
                idx = idx[idx != 0]
                flat[idx] = 0
            fused = flat.reshape(n, n)
            a = (fused + torch.eye(n)) / 2
            a = a / a.sum(dim=-1, keepdim=True)
            result = a @ result
    return result[0, extra:].reshape(grid).numpy()


def grad_rollout(atts, extra, grid):
    """Gradient-weighted rollout (Chefer et al. 2021): R += mean_heads(relu(grad ⊙ A)) · R."""
    n = atts[0].shape[-1]
    r = torch.eye(n)
    with torch.no_grad():
        for att in atts:
            cam = (att.grad * att).clamp(min=0).mean(dim=1)[0]
            r = r + cam @ r
    return r[0, extra:].reshape(grid).numpy()


def vit_fixture(seed):
    torch.manual_seed(1000 + seed)
    model = small_vit()
    seed_everything(model, 2000 + seed)
    with torch.no_grad():
        g = torch.Generator().manual_seed(4000 + seed)
        model.heads.head.weight.copy_(torch.randn(model.heads.head.weight.shape, generator=g) * 0.3)
    model.eval()
    g = torch.Generator().manual_seed(3000 + seed)
    x = F.interpolate(torch.randn(1, 3, 8, 8, generator=g), size=(VIT_SIZE, VIT_SIZE), mode='bilinear', align_corners=False)
    grid = (VIT_SIZE // VIT_PATCH, VIT_SIZE // VIT_PATCH)
    with torch.no_grad():
        logits = model(x)[0]
    target = int(logits.argmax())
    cams = []
    for path in ('encoder.layers.encoder_layer_2.ln_1', 'encoder.layers.encoder_layer_1.ln_1'):
        best = None
        for k in range(CLASSES):
            # pytorch-grad-cam's documented ViT reshape_transform: drop the class token, tokens → grid.
            store = {}

            def fwd(_m, _i, out):
                out.retain_grad()
                store['a'] = out

            h = module(model, path).register_forward_hook(fwd)
            try:
                out = model(x)
                model.zero_grad()
                out[0, k].backward()
            finally:
                h.remove()
            a = store['a'][:, 1:, :].reshape(1, grid[0], grid[1], -1).permute(0, 3, 1, 2)
            gr = store['a'].grad[:, 1:, :].reshape(1, grid[0], grid[1], -1).permute(0, 3, 1, 2)
            cam = torch.relu((gr.mean(dim=(2, 3), keepdim=True) * a).sum(dim=1))[0].detach().numpy()
            key = (int((cam > 1e-3 * max(float(np.abs(cam).max()), 1e-12)).sum()), float(cam.max()))
            if best is None or key > best[0]:
                best = (key, k, cam)
        _, k, cam = best
        cams.append({'module': path, 'target': k, 'cam': cam.astype(float).tolist()})
    logits2, atts = vit_attentions(model, x, target)
    assert float((logits2[0] - logits).abs().max()) < 1e-5, 'the written-out attention must give the same logits'
    rollouts = [{'fusion': f, 'discard': d, 'map': rollout(atts, f, d, 1, grid).astype(float).tolist()} for f, d in (('mean', 0.0), ('mean', 0.9), ('max', 0.5), ('min', 0.0))]
    files = {}
    for opset in (13, 17):
        name = f'vit-op{opset}.onnx'
        # Exported with gradients enabled: under no_grad the fused attention has no ONNX symbolic.
        torch.onnx.export(model, x, os.path.join(OUT, name), opset_version=opset, input_names=['input'], output_names=['logits'], do_constant_folding=True)
        files[str(opset)] = name
    ref = {
        'family': 'vit', 'torch': torch.__version__, 'torchvision': torchvision.__version__,
        'inputShapeNCHW': list(x.shape), 'inputNHWC': b64(x[0].permute(1, 2, 0).numpy()),
        'logits': logits.numpy().astype(float).tolist(), 'target': target,
        'defaultModule': 'encoder.layers.encoder_layer_2.ln_1', 'grid': list(grid), 'extraTokens': 1,
        'cams': cams, 'guidedNHWC': b64(guided_backprop(model, x, target)),
        'rollout': rollouts, 'gradRollout': grad_rollout(atts, 1, grid).astype(float).tolist(),
        'onnx': files,
    }
    with open(os.path.join(OUT, 'vit.json'), 'w') as f:
        json.dump(ref, f)
    print(f'vit: top {target}, logits max {float(logits.abs().max()):.4f}', flush=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    only = set(sys.argv[2:])
    if not only or 'vit' in only:
        vit_fixture(len(FAMILIES))
    for seed, (family, (build, default_module, inner_module)) in enumerate(FAMILIES.items()):
        if only and family not in only:
            continue
        torch.manual_seed(1000 + seed)
        model = build()
        seed_everything(model, 2000 + seed)
        model.eval()
        g = torch.Generator().manual_seed(3000 + seed)
        # A smooth image-like input (low-frequency noise, upsampled), already normalised.
        x = F.interpolate(torch.randn(1, 3, 14, 14, generator=g), size=(SIZE, SIZE), mode='bilinear', align_corners=False)
        with torch.no_grad():
            logits = model(x)[0]
        target = int(logits.argmax())
        cams = []
        for path in (default_module, inner_module):
            # Random weights often give an all-zero map for the top class: the class whose map has the
            # most positive cells (then the largest peak) is explained instead, so the check means something.
            best = None
            for k in range(CLASSES):
                cam, shape = grad_cam(model, x, path, k)
                key = (int((cam > 1e-3 * max(float(np.abs(cam).max()), 1e-12)).sum()), float(cam.max()))
                if best is None or key > best[0]:
                    best = (key, k, cam, shape)
            _, k, cam, shape = best
            cams.append({'module': path, 'target': k, 'activationShape': shape, 'cam': cam.astype(float).tolist()})
        guided = guided_backprop(model, x, target)
        files = {}
        for opset in (13, 17):
            name = f'{family}-op{opset}.onnx'
            torch.onnx.export(model, x, os.path.join(OUT, name), opset_version=opset, input_names=['input'], output_names=['logits'], do_constant_folding=True)
            files[str(opset)] = name
        ref = {
            'family': family,
            'torch': torch.__version__,
            'torchvision': torchvision.__version__,
            'inputShapeNCHW': list(x.shape),
            'inputNHWC': b64(x[0].permute(1, 2, 0).numpy()),
            'logits': logits.numpy().astype(float).tolist(),
            'target': target,
            'defaultModule': default_module,
            'cams': cams,
            'guidedNHWC': b64(guided),
            'onnx': files,
        }
        with open(os.path.join(OUT, f'{family}.json'), 'w') as f:
            json.dump(ref, f)
        sizes = sum(os.path.getsize(os.path.join(OUT, n)) for n in files.values())
        print(f'{family}: top {target}, logits max {float(logits.abs().max()):.4f}, onnx {sizes / 1024:.0f} KiB', flush=True)


if __name__ == '__main__':
    main()
