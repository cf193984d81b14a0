"""The common PyTorch LeNet-5 definition (state_dict keys conv1.*, conv2.*, fc1.*, fc2.*, fc3.*), with the
same options as wasmzoo.lenet5: activation 'relu' | 'tanh', pooling 'max' | 'avg', and 28x28 input padded
by 2 in conv1."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet5(nn.Module):
    def __init__(self, activation='relu', pooling='max', num_classes=10, in_channels=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)
        self.act = torch.relu if activation == 'relu' else torch.tanh
        self.pool = F.max_pool2d if pooling == 'max' else F.avg_pool2d

    def forward(self, x):
        pad = 2 if x.shape[-1] == 28 else 0
        x = self.pool(self.act(F.conv2d(x, self.conv1.weight, self.conv1.bias, padding=pad)), 2)
        x = self.pool(self.act(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = self.act(self.fc1(x))
        x = self.act(self.fc2(x))
        return self.fc3(x)
