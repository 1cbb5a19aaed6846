#!/usr/bin/python3
"""The PyTorch side of `npm run bench:onnx` (scripts/bench-onnx.ts runs it): full-size torchvision
resnet18 and mobilenet_v2 (random weights, nothing downloaded) exported to ONNX (opset 17) into the
folder given, and timed on the CPU with the threads given: forward under no_grad, and Grad-CAM the
way pytorch-grad-cam does it (hooks on layer4[-1] / features[-1], a full backward of the top logit).
Prints one JSON line: {"model": {"forward": [ms...], "gradcam": [ms...]}, ...}.
"""
import json
import os
import sys
import time

import torch
import torchvision

out_dir, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.set_num_interop_threads(1)
torch.manual_seed(0)
MODELS = {
    'resnet18': (lambda: torchvision.models.resnet18(weights=None), lambda m: m.layer4[-1]),
    'mobilenet_v2': (lambda: torchvision.models.mobilenet_v2(weights=None), lambda m: m.features[-1]),
}
os.makedirs(out_dir, exist_ok=True)
x = torch.rand(1, 3, 224, 224)
report = {}
for name, (build, target) in MODELS.items():
    model = build().eval()
    for m in model.modules():
        if hasattr(m, 'inplace'):
            m.inplace = False
    path = os.path.join(out_dir, f'{name}.onnx')
    if not os.path.exists(path):
        torch.onnx.export(model, x, path, opset_version=17, input_names=['input'], output_names=['logits'])
    store = {}

    def hook(_m, _i, out):
        if out.requires_grad:
            out.retain_grad()
        store['a'] = out

    target(model).register_forward_hook(hook)

    def forward():
        with torch.no_grad():
            model(x)

    def gradcam():
        out = model(x)
        model.zero_grad()
        out[0, int(out.argmax())].backward()
        a = store['a']
        torch.relu((a.grad.mean(dim=(2, 3), keepdim=True) * a).sum(dim=1))

    times = {}
    for case, fn in (('forward', forward), ('gradcam', gradcam)):
        fn()
        fn()
        ms = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            ms.append((time.perf_counter() - t) * 1000)
        times[case] = ms
    report[name] = times
print(json.dumps(report))
