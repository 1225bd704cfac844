"""The network, its training loop (checkpoints, exact resume), prediction, ONNX export and threshold."""
import copy
import math
import os

import torch
import torch.nn.functional as F
from torch import nn


class BagClassifier(nn.Module):
    """EmbeddingBag(sum, per-sample weights) + bias -> ReLU -> dropout -> Linear. Row `features` is padding (zero)."""

    def __init__(self, features, hidden, classes, dropout):
        super().__init__()
        self.features = features
        self.bag = nn.EmbeddingBag(features + 1, hidden, mode="sum", sparse=True, padding_idx=features)
        bound = math.sqrt(6 / (1 + hidden))  # TF-IDF rows have norm ~1: fan-in ~1, as the TypeScript MLP
        with torch.no_grad():
            self.bag.weight.uniform_(-bound, bound)
            self.bag.weight[features].zero_()
        self.bias = nn.Parameter(torch.zeros(hidden))
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, classes)

    def forward(self, ids, offsets, weights):
        hidden = F.relu(self.bag(ids, offsets, per_sample_weights=weights) + self.bias)
        return self.out(self.dropout(hidden))


class BagExport(nn.Module):
    """The same network on padded `ids` / `weights` [N, L]: Gather + Mul + ReduceSum, then the rest."""

    def __init__(self, model):
        super().__init__()
        self.weight = nn.Parameter(model.bag.weight.detach().clone())
        with torch.no_grad():
            self.weight[model.features].zero_()
        self.bias = model.bias
        self.out = model.out

    def forward(self, ids, weights):
        first = (F.embedding(ids, self.weight) * weights.unsqueeze(-1)).sum(1) + self.bias
        return torch.softmax(self.out(F.relu(first)), dim=-1)


def bag_tensors(rows, device):
    """[(ids, weights)] -> flat ids, offsets, per-sample weights."""
    ids, weights, offsets = [], [], []
    for row_ids, row_weights in rows:
        offsets.append(len(ids))
        ids.extend(row_ids)
        weights.extend(row_weights)
    return (torch.tensor(ids, dtype=torch.long, device=device), torch.tensor(offsets, dtype=torch.long, device=device),
            torch.tensor(weights, dtype=torch.float32, device=device))


def predict(model, rows, device, batch=256):
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(rows), batch):
            logits = model(*bag_tensors(rows[start:start + batch], device))
            out.extend(torch.softmax(logits, dim=-1).cpu().tolist())
    return out


def evaluate(model, rows, ys, device):
    pairs = [(row, y) for row, y in zip(rows, ys) if y >= 0]
    if not pairs:
        return None, None
    model.eval()
    with torch.no_grad():
        logits = model(*bag_tensors([row for row, _ in pairs], device))
        target = torch.tensor([y for _, y in pairs], device=device)
        loss = F.cross_entropy(logits, target).item()
        accuracy = (logits.argmax(-1) == target).float().mean().item()
    return accuracy, loss


def save(path, state):
    temporary = f"{path}.{os.getpid()}.tmp"
    torch.save(state, temporary)
    os.replace(temporary, path)


def train_loop(model, train_rows, train_ys, val_rows, val_ys, params, device, fingerprint, work_dir, resume_file, report_checkpoint, stop_requested, metric, log):
    dense = [p for name, p in model.named_parameters() if not name.startswith("bag.")]
    sparse_opt = torch.optim.SparseAdam(list(model.bag.parameters()), lr=params["learningRate"])
    dense_opt = torch.optim.Adam(dense, lr=params["learningRate"])
    generator = torch.Generator().manual_seed(params["seed"])
    n = len(train_rows)
    batch_size = params["batchSize"]
    batches = math.ceil(n / batch_size)
    total = batches * params["epochs"]
    has_val = any(y >= 0 for y in val_ys)
    s = {"epoch": 0, "position": 0, "permutation": None, "step": 0, "lossSum": 0.0, "lossCount": 0, "history": [],
         "best": None, "bestAccuracy": -1.0, "bestLoss": float("inf"), "bestEpoch": 0, "badEpochs": 0}
    resumed_from = 0
    if resume_file is not None:
        saved = torch.load(resume_file, map_location=device)
        if saved.get("fingerprint") != fingerprint:
            raise SystemExit(f"checkpoint {resume_file} was written for different data or params")
        model.load_state_dict(saved["model"])
        sparse_opt.load_state_dict(saved["sparseOpt"])
        dense_opt.load_state_dict(saved["denseOpt"])
        torch.set_rng_state(saved["rng"])
        generator.set_state(saved["generator"])
        s = saved["session"]
        resumed_from = s["step"]
        log(f"resumed at step {s['step']} (epoch {s['epoch'] + 1}, batch {s['position']})")
    targets = torch.tensor(train_ys, dtype=torch.long)

    def checkpoint():
        path = os.path.join(work_dir, f"checkpoint-{s['step']}.pt")
        save(path, {"fingerprint": fingerprint, "model": model.state_dict(), "sparseOpt": sparse_opt.state_dict(), "denseOpt": dense_opt.state_dict(),
                    "rng": torch.get_rng_state(), "generator": generator.get_state(), "session": s})
        report_checkpoint(s["step"], path, {"step": s["step"], "epoch": s["epoch"], "batch": s["position"]})

    while s["epoch"] < params["epochs"] and (not has_val or s["badEpochs"] < 3):
        if s["permutation"] is None:
            s["permutation"] = torch.randperm(n, generator=generator).tolist()
        model.train()
        while s["position"] < batches:
            if stop_requested():
                checkpoint()
                return {"stopped": True, "step": s["step"]}
            chosen = s["permutation"][s["position"] * batch_size:(s["position"] + 1) * batch_size]
            lr = params["learningRate"] * (1 - s["step"] / total)
            for opt in (sparse_opt, dense_opt):
                for group in opt.param_groups:
                    group["lr"] = lr
            logits = model(*bag_tensors([train_rows[i] for i in chosen], device))
            loss = F.cross_entropy(logits, targets[chosen].to(device), label_smoothing=params["labelSmoothing"])
            sparse_opt.zero_grad()
            dense_opt.zero_grad()
            loss.backward()
            sparse_opt.step()
            dense_opt.step()
            with torch.no_grad():
                model.bag.weight[model.features].zero_()
            s["lossSum"] += loss.item() * len(chosen)
            s["lossCount"] += len(chosen)
            s["position"] += 1
            s["step"] += 1
            if s["step"] % 50 == 0:
                metric(s["step"], "loss", loss.item())
            if params["checkpointEvery"] > 0 and s["step"] % params["checkpointEvery"] == 0:
                checkpoint()
        train_loss = s["lossSum"] / max(1, s["lossCount"])
        record = {"epoch": s["epoch"] + 1, "step": s["step"], "trainLoss": train_loss, "valAccuracy": None, "valLoss": None}
        metric(s["step"], "train_loss", train_loss)
        if has_val:
            accuracy, val_loss = evaluate(model, val_rows, val_ys, device)
            record["valAccuracy"], record["valLoss"] = accuracy, val_loss
            metric(s["step"], "val_accuracy", accuracy)
            metric(s["step"], "val_loss", val_loss)
            if accuracy > s["bestAccuracy"] or (accuracy == s["bestAccuracy"] and val_loss < s["bestLoss"]):
                s.update(bestAccuracy=accuracy, bestLoss=val_loss, bestEpoch=record["epoch"], badEpochs=0, best=copy.deepcopy(model.state_dict()))
            else:
                s["badEpochs"] += 1
        else:
            s["bestEpoch"] = record["epoch"]
        metric(s["step"], "epoch", record["epoch"])
        log(f"epoch {record['epoch']}: train loss {train_loss:.4f}" + (f", val accuracy {record['valAccuracy']:.4f}, val loss {record['valLoss']:.4f}" if has_val else ""))
        s["history"].append(record)
        s.update(epoch=s["epoch"] + 1, position=0, permutation=None, lossSum=0.0, lossCount=0)
    if s["best"] is not None:
        model.load_state_dict(s["best"])
    return {"stopped": False, "step": s["step"], "epochs": len(s["history"]), "bestEpoch": s["bestEpoch"], "history": s["history"], "resumedFrom": resumed_from}


def export_onnx(model, features, path):
    exported = BagExport(model).eval()
    ids = torch.tensor([[0, 1, features], [2, features, features]], dtype=torch.long)
    weights = torch.tensor([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]], dtype=torch.float32)
    torch.onnx.export(exported, (ids, weights), path, input_names=["ids", "weights"], output_names=["probabilities"],
                      dynamic_axes={"ids": {0: "N", 1: "L"}, "weights": {0: "N", 1: "L"}, "probabilities": {0: "N"}}, opset_version=13, do_constant_folding=True)


def choose_threshold(probabilities, ys, oos_class, target):
    """Highest in-scope accuracy with OOS recall >= target on validation (rows labelled -1 or the OOS class are out of scope)."""
    rows = []
    for p, y in zip(probabilities, ys):
        top = max(range(len(p)), key=p.__getitem__)
        rows.append((p[top], top, y < 0 or y == oos_class, top == y))
    in_scope = sum(1 for r in rows if not r[2])
    oos = len(rows) - in_scope
    no_abstain = sum(1 for r in rows if not r[2] and r[3]) / in_scope if in_scope else None
    if oos == 0 or in_scope == 0:
        return {"threshold": 0.0, "method": "none", "objective": None, "targetMet": False, "inScopeAccuracy": no_abstain, "oosRecall": None, "noAbstainAccuracy": no_abstain}
    correct = sum(1 for r in rows if not r[2] and r[3] and r[1] != oos_class)
    caught = sum(1 for r in rows if r[2] and r[1] == oos_class)
    movable = sorted((r for r in rows if (r[2] and r[1] != oos_class) or (not r[2] and r[3] and r[1] != oos_class)), key=lambda r: r[0])
    points = [(0.0, correct / in_scope, caught / oos)]
    i = 0
    while i < len(movable):
        t = movable[i][0]
        if t > 0 and t != points[-1][0]:
            points.append((t, correct / in_scope, caught / oos))
        while i < len(movable) and movable[i][0] == t:
            if movable[i][2]:
                caught += 1
            else:
                correct -= 1
            i += 1
    meeting = [p for p in points if p[2] + 1e-12 >= target]
    best = max(meeting, key=lambda p: (p[1], -p[0])) if meeting else max(points, key=lambda p: (p[2], -p[0]))
    return {"threshold": best[0], "method": "oos", "objective": {"kind": "oos-recall-target", "oosRecallTarget": target}, "targetMet": bool(meeting),
            "inScopeAccuracy": best[1], "oosRecall": best[2], "noAbstainAccuracy": no_abstain}
