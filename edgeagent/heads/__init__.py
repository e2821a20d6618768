"""PyTorch definitions of the small trained heads (slot filler, router).

Pure modules: tensors in, tensors out. train/ trains them, export/ exports them to ONNX; the
lean runtime never imports this package (it runs the exported graphs).
"""
