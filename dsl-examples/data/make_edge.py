# d2l 7.2.3: the 6x8 black-and-white image X (columns 2..5 black) and its edges Y = corr2d(X, K),
# K = [[1, -1]], saved as float32 .npy for dsl-examples/corr2d.cnn.
# Regenerate: /usr/bin/python3 dsl-examples/data/make_edge.py
import os
import torch

X = torch.ones((6, 8))
X[:, 2:6] = 0
K = torch.tensor([[1.0, -1.0]])
Y = torch.nn.functional.conv2d(X.reshape(1, 1, 6, 8), K.reshape(1, 1, 1, 2))
here = os.path.dirname(os.path.abspath(__file__))
import numpy as np
np.save(os.path.join(here, 'edge-x.npy'), X.reshape(1, 1, 6, 8).numpy().astype(np.float32))
np.save(os.path.join(here, 'edge-y.npy'), Y.numpy().astype(np.float32))
print(Y.reshape(6, 7))
