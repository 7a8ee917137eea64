# NFM: Neural Factorization Machines (Xiangnan He, Tat-Seng Chua, SIGIR 2017). Bi-interaction
# pooling sums the element-wise products of all embedding pairs into one k-vector, which an MLP
# turns into higher-order interactions; a linear term is added.
model nfm {
  input fields: categorical
  emb = embed(fields, dim=10)
  linear = lr(fields)
  pooled = bi_interaction(emb)
  # BARS NFM_frappe_x1: 400-400-400, ReLU, dropout 0.4, no batch norm.
  mlp dnn(pooled) {
    layers 3
    width 400
    act relu
    dropout 0.4
  }
  head ctr(linear, dnn)
}

# BARS NFM_frappe_x1 settings: Adam 1e-3, batch 4096, 200 epochs, embedding L2 1e-4, patience 2.
train {
  optimizer adam(lr=0.001)
  batch 4096
  epochs 200
  monitor auc
  patience 2
  lr_decay 0.1
  embedding_l2 0.0001
}
