"""Training pipeline: sensor data in, deployable int8 autoencoder out (`emberwatch train`).

Read in this order:
  recordings.py   Recording (physical units) -> node features via edge_node.core.features
  real_data.py    loaders for ../shared/data (unique smoke blocks, BME688, UCI sets)
  csv_mapping.py  any CSV through --map temperature=..,humidity=..,gas=..
  synthetic.py    quiet forest background (normal data only)
  dataset.py      train / calib / test, split by contiguous blocks
  autoencoder.py  Keras teacher and tiny student; distillation, pruning, QAT (TensorFlow here only)
  quantize.py     int8 PTQ and the .tflite -> core DenseLayer bridge; LiteRT reference runs
  metrics.py      AUCs, false alerts per node-day, detection delay, threshold calibration
  scorers.py      every compared method behind one score function
  evaluation.py   one evaluation for all methods
  export.py       .tflite, C array, MicroPython weights module, model card
  report.py       docs/model_report.md and the ROC plot
  train_pipeline.py / train_command.py / evaluate_command.py   the commands
"""
