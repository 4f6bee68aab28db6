"""keras-io example "Knowledge Distillation", run on chainrule.

Source: https://keras.io/examples/vision/knowledge_distillation/ (keras-team/keras-io,
examples/vision/knowledge_distillation.py, the Keras 3 revision: the Distiller overrides `compute_loss` and
`call`).

The example's code is kept as written, except:
- the import lines: `import keras` -> `from chainrule import keras`,
  `from keras import layers` / `from keras import ops` -> `from chainrule.keras import layers, ops`
  (the `KERAS_BACKEND` environment line is left out);
- MNIST (`keras.datasets.mnist.load_data()`) is replaced by 256 training and 128 test synthetic
  28x28 images of the 10 classes (tests/programs/mnist_like.py);
- the teacher trains for `TEACHER_EPOCHS` = 2 epochs (5), the student for `STUDENT_EPOCHS` = 2 (3);
- lines marked `# test:` check what the program produces.
"""

import numpy as np

from chainrule import keras
from chainrule.keras import layers, ops

import mnist_like

N_TRAIN, N_TEST = 256, 128  # test: the synthetic data's size (MNIST: 60000, 10000)
TEACHER_EPOCHS = 2  # test: the example's 5
STUDENT_EPOCHS = 2  # test: the example's 3


class Distiller(keras.Model):
    def __init__(self, student, teacher):
        super().__init__()
        self.teacher = teacher
        self.student = student

    def compile(
        self,
        optimizer,
        metrics,
        student_loss_fn,
        distillation_loss_fn,
        alpha=0.1,
        temperature=3,
    ):
        """Configure the distiller.

        Args:
            optimizer: Keras optimizer for the student weights
            metrics: Keras metrics for evaluation
            student_loss_fn: Loss function of difference between student
                predictions and ground-truth
            distillation_loss_fn: Loss function of difference between soft
                student predictions and soft teacher predictions
            alpha: weight to student_loss_fn and 1-alpha to distillation_loss_fn
            temperature: Temperature for softening probability distributions.
                Larger temperature gives softer distributions.
        """
        super().compile(optimizer=optimizer, metrics=metrics)
        self.student_loss_fn = student_loss_fn
        self.distillation_loss_fn = distillation_loss_fn
        self.alpha = alpha
        self.temperature = temperature

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, allow_empty=False
    ):
        teacher_pred = self.teacher(x, training=False)
        student_loss = self.student_loss_fn(y, y_pred)

        distillation_loss = self.distillation_loss_fn(
            ops.softmax(teacher_pred / self.temperature, axis=1),
            ops.softmax(y_pred / self.temperature, axis=1),
        ) * (self.temperature**2)

        loss = self.alpha * student_loss + (1 - self.alpha) * distillation_loss
        return loss

    def call(self, x):
        return self.student(x)


def test_knowledge_distillation():
    # Create the teacher
    teacher = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(256, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
            layers.Conv2D(512, (3, 3), strides=(2, 2), padding="same"),
            layers.Flatten(),
            layers.Dense(10),
        ],
        name="teacher",
    )

    # Create the student
    student = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
            layers.Conv2D(32, (3, 3), strides=(2, 2), padding="same"),
            layers.Flatten(),
            layers.Dense(10),
        ],
        name="student",
    )

    # Clone student for later comparison
    student_scratch = keras.models.clone_model(student)

    # test: the clone has the student's layers and weight shapes, but weights of its own
    assert [w.shape for w in student_scratch.get_weights()] == [w.shape for w in student.get_weights()]
    assert not np.array_equal(student_scratch.get_weights()[0], student.get_weights()[0])

    # Prepare the train and test dataset.
    batch_size = 64
    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=N_TRAIN, n_test=N_TEST, num_classes=10)

    # Normalize data
    x_train = x_train.astype("float32") / 255.0
    x_train = np.reshape(x_train, (-1, 28, 28, 1))

    x_test = x_test.astype("float32") / 255.0
    x_test = np.reshape(x_test, (-1, 28, 28, 1))

    # Train teacher as usual
    teacher.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )

    # Train and evaluate teacher on data.
    teacher.fit(x_train, y_train, epochs=TEACHER_EPOCHS)
    teacher_score = teacher.evaluate(x_test, y_test)
    assert teacher_score[1] > 0.8  # test: the teacher learned the synthetic classes

    teacher_weights = [w.copy() for w in teacher.get_weights()]

    # Initialize and compile distiller
    distiller = Distiller(student=student, teacher=teacher)
    distiller.compile(
        optimizer=keras.optimizers.Adam(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
        student_loss_fn=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        distillation_loss_fn=keras.losses.KLDivergence(),
        alpha=0.1,
        temperature=10,
    )

    # Distill teacher to student
    history = distiller.fit(x_train, y_train, epochs=STUDENT_EPOCHS)

    # Evaluate student on test dataset
    distilled_score = distiller.evaluate(x_test, y_test)

    # test: compute_loss is the loss fit minimized and the distilled student learned the classes; as in Keras, the
    # distiller's trainable variables are the teacher's and the student's, and the distillation term's gradient
    # reaches the teacher too (the example does not freeze it)
    assert set(history.history) == {"loss", "sparse_categorical_accuracy"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(distiller.trainable_variables) == len(teacher.trainable_variables) + len(student.trainable_variables)
    assert any(not np.array_equal(a, b) for a, b in zip(teacher_weights, teacher.get_weights()))
    assert distilled_score[1] > 0.5
    # test: evaluate's loss is compute_loss on the test set
    t = ops.convert_to_numpy(teacher(x_test)) / 10.0
    s = ops.convert_to_numpy(student(x_test))
    log_softmax = lambda z: z - z.max(1, keepdims=True) - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))  # noqa: E731
    student_loss = -np.mean(log_softmax(s)[np.arange(len(y_test)), y_test])
    p, q = np.exp(log_softmax(t)), np.exp(log_softmax(s / 10.0))
    kl = np.mean(np.sum(p * np.log(np.clip(p, 1e-7, 1) / np.clip(q, 1e-7, 1)), axis=1))
    assert np.isclose(distilled_score[0], 0.1 * student_loss + 0.9 * kl * 100, rtol=1e-3)

    # Train student as doen usually
    student_scratch.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )

    # Train and evaluate student trained from scratch.
    student_scratch.fit(x_train, y_train, epochs=STUDENT_EPOCHS)
    scratch_score = student_scratch.evaluate(x_test, y_test)
    assert 0.0 <= scratch_score[1] <= 1.0  # test
