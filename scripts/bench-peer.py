#!/usr/bin/env python3
"""The PyTorch side of `npm run bench:peer` (scripts/bench-peer.ts drives it; not meant to be run alone).

The same three architectures as the app's bench (torchvision's MobileNetV2, VGG16 and ResNet50,
random weights: nothing downloaded), on the CPU, explained the way pytorch-grad-cam does it:

- forward: model(x) under torch.no_grad() (inference).
- gradcam_last: a forward hook on the last conv block keeps its output and a tensor hook its
  gradient; model(x), zero_grad, output[0, class].backward() — a full backward, since the
  parameters require grad (pytorch-grad-cam leaves them so) — then weights = mean gradient per
  channel, cam = relu(sum(w * A)), upsampled to the input and normalised to [0, 1].
- guided_backprop: ReLU / ReLU6 modules swapped for a guided version (pytorch-grad-cam's
  GuidedBackpropReLUModel swaps ReLU; ReLU6 here too, as the app's guided rule does), the input
  requiring grad, output[0, class].backward(), input.grad.

JSON lines on stdin, one answer line each on stdout:
  {"cmd": "info"}                                      -> versions and threads
  {"cmd": "load", "model": "resnet50"}                 -> builds it, two warm-up runs of each case
  {"cmd": "time", "model": "resnet50", "case": "gradcam_last", "runs": 2}  -> {"ms": [...]}
"""
import copy
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

THREADS = int(os.environ.get("PEER_THREADS", "2"))
torch.set_num_threads(THREADS)
torch.set_num_interop_threads(1)
torch.manual_seed(0)

# The last conv block of each, as the app's bench explains it: MobileNetV2's out_relu (1280 channels,
# 7x7), VGG16's block5_conv3 after its ReLU (14x14), ResNet50's conv5_block3_out (layer4[-1], 7x7).
ARCHITECTURES = {
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(weights=None), lambda m: m.features[-1]),
    "vgg16": (lambda: torchvision.models.vgg16(weights=None), lambda m: m.features[29]),
    "resnet50": (lambda: torchvision.models.resnet50(weights=None), lambda m: m.layer4[-1]),
}


class GuidedReLU(torch.autograd.Function):
    """ReLU (or ReLU6 with cap=6) whose backward passes only positive gradients where the input was active."""

    @staticmethod
    def forward(ctx, x, cap):
        ctx.save_for_backward(x)
        ctx.cap = cap
        return x.clamp(min=0) if cap is None else x.clamp(0, cap)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        active = x > 0
        if ctx.cap is not None:
            active = active & (x < ctx.cap)
        return grad * active * (grad > 0), None


class GuidedReLUModule(torch.nn.Module):
    def __init__(self, cap=None):
        super().__init__()
        self.cap = cap

    def forward(self, x):
        return GuidedReLU.apply(x, self.cap)


def guided_copy(model):
    """A copy with every ReLU / ReLU6 module replaced by its guided version."""
    guided = copy.deepcopy(model)

    def swap(module):
        for name, child in module.named_children():
            if isinstance(child, torch.nn.ReLU6):
                setattr(module, name, GuidedReLUModule(6.0))
            elif isinstance(child, torch.nn.ReLU):
                setattr(module, name, GuidedReLUModule())
            else:
                swap(child)

    swap(guided)
    return guided


class Peer:
    def __init__(self, name):
        build, layer_of = ARCHITECTURES[name]
        self.model = build().eval()
        self.layer = layer_of(self.model)
        self.guided = guided_copy(self.model).eval()
        self.input = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(7))
        self.params = sum(p.numel() for p in self.model.parameters())

    def forward(self):
        with torch.no_grad():
            return self.model(self.input)

    def gradcam_last(self, target=0):
        saved = {}

        def keep(_module, _inputs, output):
            saved["activations"] = output
            output.register_hook(lambda g: saved.__setitem__("gradients", g))

        handle = self.layer.register_forward_hook(keep)
        try:
            output = self.model(self.input)
            self.model.zero_grad()
            output[0, target].backward()
        finally:
            handle.remove()
        activations = saved["activations"].detach()
        weights = saved["gradients"].mean(dim=(2, 3), keepdim=True)
        cam = torch.relu((weights * activations).sum(dim=1, keepdim=True))
        cam = F.interpolate(cam, size=self.input.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
        cam = cam - cam.min()
        return cam / (cam.max() + 1e-7)

    def guided_backprop(self, target=0):
        x = self.input.clone().requires_grad_(True)
        output = self.guided(x)
        self.guided.zero_grad()
        output[0, target].backward()
        return x.grad[0].permute(1, 2, 0).numpy()

    def time(self, case, runs):
        run = getattr(self, case)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            run()
            times.append((time.perf_counter() - t0) * 1000)
        return times


def main():
    peers = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            if request["cmd"] == "info":
                answer = {
                    "torch": torch.__version__,
                    "torchvision": torchvision.__version__,
                    "threads": torch.get_num_threads(),
                    "mkldnn": torch.backends.mkldnn.is_available(),
                }
            elif request["cmd"] == "load":
                name = request["model"]
                peers[name] = Peer(name)
                for case in ("forward", "gradcam_last", "guided_backprop"):
                    peers[name].time(case, 2)  # warm-up: allocator, oneDNN primitives
                answer = {"params": peers[name].params}
            elif request["cmd"] == "time":
                answer = {"ms": peers[request["model"]].time(request["case"], int(request.get("runs", 1)))}
            else:
                answer = {"error": f"unknown command {request['cmd']}"}
        except Exception as e:  # reported to the driver, which prints it
            answer = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
