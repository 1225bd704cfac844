"""Recipe `torch-text-classifier`: a fastText-style bag of n-gram embeddings in PyTorch, on the recipe protocol.

Spec on stdin, JSON lines on stdout (../../PROTOCOL.md). The text -> TF-IDF-weighted n-gram ids of
featurizer.py -> EmbeddingBag (sum, per-sample weights) + bias -> ReLU -> dropout -> Linear ->
softmax. Checkpoints every `checkpointEvery` steps and on SIGTERM (then exit 143); a resumed run
ends with the same weights as an uninterrupted one (same seed, CPU). Exits when the worker dies (fd 3).
Exports model.onnx with torch.onnx.export (opset 13) in the embedding-bag input form the TypeScript
text-classifier uses (`ids` [N, L] int64, `weights` [N, L] float; padding id = vocabulary size), so
evaluation and serving load it like any text-classifier version. README.md beside this file.
"""
import hashlib
import json
import math
import os
import random
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from featurizer import Featurizer, fit  # noqa: E402


def emit(**message):
    print(json.dumps(message), flush=True)


def log(message, level="info"):
    emit(type="log", level=level, message=message)


def refuse(message):
    emit(type="error", message=message, recoverable=False)
    sys.exit(2)


def watch_parent():
    fd = int(os.environ.get("ANVIL_PARENT_FD", "-1"))
    if fd < 0:
        return

    def wait():
        try:
            while os.read(fd, 1):
                pass
        except OSError:
            pass
        os._exit(137)

    threading.Thread(target=wait, daemon=True).start()


STOP = {"requested": False}


def on_sigterm(_signum, _frame):
    STOP["requested"] = True


DEFAULTS = {
    "wordNgrams": [1, 2], "charNgrams": [2, 5], "sublinearTf": True, "minDf": 2, "maxFeatures": 50000,
    "hiddenSize": 256, "epochs": 6, "batchSize": 32, "learningRate": 0.002, "dropout": 0.3, "labelSmoothing": 0.0,
    "seed": 42, "validationFraction": 0.1, "oosLabel": "oos", "oosRecallTarget": 0.6, "checkpointEvery": 500,
    "device": "auto", "threads": 0,
}


def read_params(spec):
    params = dict(DEFAULTS)
    params.update(spec.get("params") or {})
    dataset = params.get("dataset")
    if not isinstance(dataset, dict) or not isinstance(dataset.get("file"), str):
        refuse("invalid params for torch-text-classifier: dataset.file: expected a file path")
    dataset.setdefault("textColumn", "text")
    dataset.setdefault("labelColumn", "label")
    for name in ("epochs", "batchSize", "hiddenSize", "minDf", "maxFeatures"):
        if not isinstance(params[name], int) or params[name] < 1:
            refuse(f"invalid params for torch-text-classifier: {name}: expected a whole number >= 1")
    if params["device"] not in ("auto", "cpu", "cuda"):
        refuse("invalid params for torch-text-classifier: device: expected auto, cpu or cuda")
    return params


def split_of(row, line, column):
    if column is None:
        return "train"
    value = row.get(column)
    if value in ("train", "validation", "test"):
        return value
    if value in ("val", "dev", "valid"):
        return "validation"
    refuse(f"line {line}: the split column '{column}' must be 'train', 'validation' or 'test', got {json.dumps(value)}")


def load_rows(params):
    dataset = params["dataset"]
    path = os.path.join(os.getcwd(), dataset["file"]) if not os.path.isabs(dataset["file"]) else dataset["file"]
    if not os.path.isfile(path):
        refuse(f"dataset.file {path} does not exist or is not a file")
    splits = {"train": [], "validation": [], "test": []}
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                refuse(f"line {line_no} of {path} is not valid JSON")
            text = row.get(dataset["textColumn"])
            label = row.get(dataset["labelColumn"])
            if not isinstance(text, str):
                refuse(f"line {line_no} has no string in the text column '{dataset['textColumn']}'")
            if label is None or label == "":
                refuse(f"line {line_no} has no value in the label column '{dataset['labelColumn']}'")
            splits[split_of(row, line_no, dataset.get("splitColumn"))].append((line_no, text, str(label)))
    if not splits["train"]:
        refuse(f"dataset {path} has no training rows")
    labels = sorted({label for _, _, label in splits["train"]})
    if len(labels) < 2:
        refuse(f"the label column '{dataset['labelColumn']}' has a single class ({json.dumps(labels[0])}) in the training rows; a classifier needs at least 2")
    if not splits["validation"] and params["validationFraction"] > 0:
        rng = random.Random(params["seed"])
        by_class = {}
        for i, (_, _, label) in enumerate(splits["train"]):
            by_class.setdefault(label, []).append(i)
        picked = set()
        for label in sorted(by_class):
            members = by_class[label][:]
            rng.shuffle(members)
            picked.update(members[:min(len(members) - 1, round(len(members) * params["validationFraction"]))])
        splits["validation"] = [row for i, row in enumerate(splits["train"]) if i in picked]
        splits["train"] = [row for i, row in enumerate(splits["train"]) if i not in picked]
    return labels, splits


def main():
    spec = json.load(sys.stdin)
    watch_parent()
    signal.signal(signal.SIGTERM, on_sigterm)
    params = read_params(spec)
    work_dir = spec["workDir"]

    import torch
    from model import BagClassifier, choose_threshold, export_onnx, predict, train_loop

    if params["threads"]:
        torch.set_num_threads(params["threads"])
    want_cuda = params["device"] in ("auto", "cuda") and torch.cuda.is_available()
    if params["device"] == "cuda" and not want_cuda:
        refuse("device 'cuda' was asked for but torch.cuda.is_available() is false on this worker")
    device = torch.device("cuda" if want_cuda else "cpu")
    started = time.time()
    labels, splits = load_rows(params)
    index = {label: i for i, label in enumerate(labels)}
    log(f"{len(splits['train'])} training, {len(splits['validation'])} validation, {len(splits['test'])} test rows; {len(labels)} classes; torch {torch.__version__} on {device}")

    vectorizer = fit([text for _, text, _ in splits["train"]], params["wordNgrams"], params["charNgrams"], params["sublinearTf"], params["minDf"], params["maxFeatures"])
    featurizer = Featurizer(vectorizer)
    if featurizer.feature_count == 0:
        refuse(f"no n-gram occurs in at least minDf={params['minDf']} training texts")
    rows = {name: [featurizer.transform(text) for _, text, _ in items] for name, items in splits.items()}
    targets = {name: [index.get(label, -1) for _, _, label in items] for name, items in splits.items()}
    log(f"featurizer: {featurizer.feature_count} features ({time.time() - started:.1f} s)")

    fingerprint = hashlib.sha256(json.dumps({
        "params": {k: v for k, v in params.items() if k not in ("checkpointEvery", "device", "threads")},
        "features": featurizer.feature_count, "labels": labels, "rows": [len(rows["train"]), len(rows["validation"])],
    }, sort_keys=True).encode()).hexdigest()[:32]

    torch.manual_seed(params["seed"])
    model = BagClassifier(featurizer.feature_count, params["hiddenSize"], len(labels), params["dropout"]).to(device)
    resume = spec.get("resume")
    checkpoint_file = resume["checkpoint"]["path"] if resume else None
    if checkpoint_file is not None and not os.path.isfile(checkpoint_file):
        refuse(f"checkpoint file {checkpoint_file} does not exist")

    written = []

    def report_checkpoint(step, path, state):
        emit(type="checkpoint", step=step, path=path, state=state)
        written.append((path, time.time()))
        # Keep a reported file until two newer ones exist and a minute has passed (PROTOCOL.md).
        while len(written) > 2 and time.time() - written[0][1] > 60:
            try:
                os.remove(written.pop(0)[0])
            except OSError:
                pass

    outcome = train_loop(model, rows["train"], targets["train"], rows["validation"], targets["validation"], params, device, fingerprint,
                         work_dir, checkpoint_file, report_checkpoint, lambda: STOP["requested"], lambda step, name, value: emit(type="metric", step=step, name=name, value=value), log)
    if outcome["stopped"]:
        log(f"SIGTERM: checkpointed at step {outcome['step']}; exiting")
        sys.exit(143)

    model.eval()
    val_probabilities = predict(model, rows["validation"], device)
    test_probabilities = predict(model, rows["test"], device)
    oos_class = index.get(params["oosLabel"], -1)
    threshold = choose_threshold(val_probabilities, targets["validation"], oos_class, params["oosRecallTarget"])

    def accuracy(probabilities, ys):
        pairs = [(p, y) for p, y in zip(probabilities, ys) if y >= 0]
        return sum(1 for p, y in pairs if max(range(len(p)), key=p.__getitem__) == y) / len(pairs) if pairs else None

    metrics = {
        "valAccuracy": accuracy(val_probabilities, targets["validation"]),
        "testAccuracy": accuracy(test_probabilities, targets["test"]) if rows["test"] else None,
        "threshold": threshold["threshold"],
        "valInScopeAccuracyAtThreshold": threshold["inScopeAccuracy"],
        "valOosRecallAtThreshold": threshold["oosRecall"],
        "bestEpoch": outcome["bestEpoch"],
        "trainRows": len(rows["train"]), "valRows": len(rows["validation"]), "testRows": len(rows["test"]),
    }
    metrics = {k: v for k, v in metrics.items() if v is not None}
    for name in ("valAccuracy", "testAccuracy"):
        if name in metrics:
            emit(type="metric", step=outcome["step"], name=f"final_{name}", value=metrics[name])

    def publish(name, file_name, data, media_type):
        path = os.path.join(work_dir, file_name)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
        emit(type="artifact", name=name, path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data), mediaType=media_type)

    onnx_file = os.path.join(work_dir, "model.onnx.partial")
    export_onnx(model.to("cpu"), featurizer.feature_count, onnx_file)
    with open(onnx_file, "rb") as handle:
        onnx_bytes = handle.read()
    os.remove(onnx_file)
    publish("model", "model.onnx", onnx_bytes, "application/onnx")
    featurizer_spec = {
        "kind": "anvil.text-featurizer", "version": 1, **vectorizer, "labels": labels, "oosLabel": params["oosLabel"],
        "threshold": threshold["threshold"], "thresholdMethod": threshold["method"],
        "operatingPoint": {k: v for k, v in threshold.items() if k != "curve"},
        "model": {"kind": "mlp", "hidden": params["hiddenSize"], "input": "embedding-bag", "output": "probabilities"},
    }
    publish("featurizer", "featurizer.json", (json.dumps(featurizer_spec) + "\n").encode(), "application/json")
    publish("metrics", "metrics.json", (json.dumps({"metrics": metrics, "threshold": threshold, "history": outcome["history"]}, indent=2) + "\n").encode(), "application/json")
    if rows["test"]:
        predictions = {"split": "test", "labels": labels, "lines": [line for line, _, _ in splits["test"]], "probabilities": test_probabilities}
        publish("predictions", "predictions.json", (json.dumps(predictions) + "\n").encode(), "application/json")
    emit(type="result", value={
        "labels": labels, "metrics": metrics, "threshold": threshold["threshold"],
        "operatingPoint": {k: v for k, v in threshold.items() if k != "curve"},
        "steps": outcome["step"], "epochs": outcome["epochs"], "featureCount": featurizer.feature_count,
        "onnxInput": "embedding-bag", "device": str(device), "seconds": round(time.time() - started, 3), "torchVersion": torch.__version__, "resumedFrom": outcome["resumedFrom"],
    })
    sys.stdout.flush()
    sys.exit(0)


if __name__ == "__main__":
    main()
