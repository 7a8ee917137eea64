# xDeepFM (Jianxun Lian, Xiaohuan Zhou, Fuzheng Zhang, Zhongxia Chen, Xing Xie, Guangzhong Sun,
# KDD 2018). A compressed interaction network (vector-wise explicit interactions of bounded
# order) plus a DNN (implicit interactions) plus a linear term, summed into the logit.
model xdeepfm {
  input fields: categorical
  emb = embed(fields, dim=10)
  linear = lr(fields)
  # BARS xDeepFM_frappe_x1: one CIN layer of 64 feature maps.
  interactions_cin = cin(emb, layers=[64])
  mlp dnn(flatten(emb)) {
    layers 3
    width 400
    act relu
    dropout 0.2
    batch_norm
  }
  head ctr(linear, interactions_cin, dnn)
}

# BARS xDeepFM_frappe_x1 settings: Adam 1e-3, batch 4096, embedding L2 0.1, patience 2, AUC.
train {
  optimizer adam(lr=0.001)
  batch 4096
  epochs 100
  monitor auc
  patience 2
  lr_decay 0.1
  embedding_l2 0.1
}
