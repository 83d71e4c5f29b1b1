#include "text/linear_svm.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "text/trainer_testing.h"

namespace sagaflow::text {
namespace {

using testing::RunPython;
using testing::ScratchDir;

SparseRows Dense(const std::vector<std::vector<double>>& rows) {
  SparseRows x;
  x.cols = rows.empty() ? 0 : static_cast<uint32_t>(rows[0].size());
  for (const auto& r : rows) {
    std::vector<uint32_t> cols;
    std::vector<double> values;
    for (uint32_t j = 0; j < r.size(); ++j) {
      if (r[j] != 0) {
        cols.push_back(j);
        values.push_back(r[j]);
      }
    }
    x.AddRow(cols, values);
  }
  return x;
}

// Random sparse count-like data, labels from a hidden linear rule plus noise
// (not separable), the shape of the trainer's problems.
void RandomProblem(uint32_t seed, size_t rows, uint32_t cols, SparseRows* x, std::vector<int8_t>* y) {
  std::mt19937 rng(seed);
  std::vector<double> hidden(cols);
  for (double& h : hidden) h = static_cast<double>(rng() % 2001) / 1000.0 - 1.0;
  x->cols = cols;
  for (size_t i = 0; i < rows; ++i) {
    std::vector<uint32_t> c;
    std::vector<double> v;
    double score = 0;
    for (uint32_t j = 0; j < cols; ++j) {
      if (rng() % 5 == 0) {
        double count = 1 + rng() % 4;
        c.push_back(j);
        v.push_back(count);
        score += count * hidden[j];
      }
    }
    x->AddRow(c, v);
    bool flip = rng() % 10 == 0;
    y->push_back(((score > 0) != flip) ? 1 : -1);
  }
}

TEST(LinearSvmTest, SymmetricPairHasClosedFormSolution) {
  // x = +1 (y = +1) and x = -1 (y = -1), C = 1: by symmetry the bias weight is
  // 0 and the primal 1/2 w^2 + 2 (1 - w)^2 is minimal at w = 4/5.
  SparseRows x = Dense({{1.0}, {-1.0}});
  std::vector<int8_t> y = {1, -1};
  SvmOptions options;
  BinarySvm svm = SolveL2LossSvm(x, y, options);
  EXPECT_TRUE(svm.converged);
  EXPECT_NEAR(svm.weights[0], 0.8, 1e-4);
  EXPECT_NEAR(svm.intercept, 0.0, 1e-4);
  // Dual: alpha_i = 2C(1 - y_i w.x_i) = 0.4 each.
  EXPECT_NEAR(svm.alpha[0], 0.4, 1e-4);
  EXPECT_NEAR(svm.alpha[1], 0.4, 1e-4);
}

TEST(LinearSvmTest, SeparableDataIsSeparatedAndOptimal) {
  SparseRows x = Dense({{2, 0, 1}, {3, 1, 0}, {1, 0, 0}, {0, 2, 1}, {0, 3, 0}, {0, 1, 2}});
  std::vector<int8_t> y = {1, 1, 1, -1, -1, -1};
  SvmOptions options;
  options.tol = 1e-8;
  BinarySvm svm = SolveL2LossSvm(x, y, options);
  ASSERT_TRUE(svm.converged);
  for (size_t i = 0; i < x.rows(); ++i) {
    double d = svm.intercept;
    for (uint64_t k = x.row_begin[i]; k < x.row_begin[i + 1]; ++k) d += svm.weights[x.col[k]] * x.value[k];
    EXPECT_GT(d * y[i], 0) << "row " << i;
  }
  SvmCheck check = CheckL2LossSvm(x, y, options, svm);
  EXPECT_LT(check.max_kkt_violation, 1e-6);
  // Strong duality: primal optimum = -(dual optimum).
  EXPECT_NEAR(check.primal_objective, -check.dual_objective, 1e-6);
}

TEST(LinearSvmTest, KktAndDualityGapOnNoisyData) {
  SparseRows x;
  std::vector<int8_t> y;
  RandomProblem(7, 300, 40, &x, &y);
  for (double tol : {1e-4, 1e-8}) {
    SvmOptions options;
    options.tol = tol;
    options.max_iter = 100000;
    BinarySvm svm = SolveL2LossSvm(x, y, options);
    ASSERT_TRUE(svm.converged) << tol;
    SvmCheck check = CheckL2LossSvm(x, y, options, svm);
    // The stopping rule bounds the spread of projected gradients by tol
    // (up to the drift of w within the final pass).
    EXPECT_LE(check.max_kkt_violation, 10 * tol) << tol;
    EXPECT_NEAR(check.primal_objective, -check.dual_objective, 1e3 * tol * std::fabs(check.primal_objective)) << tol;
    // The running w equals sum_i alpha_i y_i x_i (CheckL2LossSvm recomputes it).
    EXPECT_GE(check.primal_objective, -check.dual_objective - 1e-9);
  }
}

TEST(LinearSvmTest, DeterministicForASeedAndSeedIndependentAtTheOptimum) {
  SparseRows x;
  std::vector<int8_t> y;
  RandomProblem(11, 200, 30, &x, &y);
  SvmOptions options;
  options.tol = 1e-9;
  options.max_iter = 100000;
  BinarySvm a = SolveL2LossSvm(x, y, options);
  BinarySvm b = SolveL2LossSvm(x, y, options);
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_EQ(a.intercept, b.intercept);
  options.seed = 12345;
  BinarySvm c = SolveL2LossSvm(x, y, options);
  for (size_t j = 0; j < a.weights.size(); ++j) EXPECT_NEAR(a.weights[j], c.weights[j], 1e-6) << j;
  EXPECT_NEAR(a.intercept, c.intercept, 1e-6);
}

TEST(LinearSvmTest, NoInterceptAndEmptyProblem) {
  SparseRows x = Dense({{1.0}, {-1.0}});
  std::vector<int8_t> y = {1, -1};
  SvmOptions options;
  options.intercept_scaling = 0;  // fit_intercept=False
  BinarySvm svm = SolveL2LossSvm(x, y, options);
  EXPECT_EQ(svm.intercept, 0.0);
  EXPECT_NEAR(svm.weights[0], 0.8, 1e-4);

  SparseRows empty;
  empty.cols = 3;
  BinarySvm none = SolveL2LossSvm(empty, {}, SvmOptions{});
  EXPECT_TRUE(none.converged);
  EXPECT_EQ(none.weights, std::vector<double>(3, 0.0));
}

// Differential test: scikit-learn's LinearSVC (liblinear) on the same data,
// both solved to a tight tolerance, reaches the same unique optimum.
TEST(LinearSvmTest, MatchesScikitLearnLinearSvc) {
  SparseRows x;
  std::vector<int8_t> y;
  RandomProblem(3, 250, 25, &x, &y);
  ScratchDir dir;
  std::ostringstream data;
  data.precision(17);
  for (size_t i = 0; i < x.rows(); ++i) {
    data << int(y[i]);
    for (uint64_t k = x.row_begin[i]; k < x.row_begin[i + 1]; ++k) data << ' ' << x.col[k] << ':' << x.value[k];
    data << '\n';
  }
  testing::WriteFile(dir.File("data.txt"), data.str());
  struct Setting {
    double c, scaling;
  };
  const std::vector<Setting> settings = {{1.0, 1.0}, {1.0, 3.0}, {0.05, 1.0}, {0.05, 3.0}};
  // One Python run fits every setting ("C:scaling" arguments); line k: coef..., intercept.
  std::vector<std::string> args = {dir.File("data.txt"), std::to_string(x.cols)};
  for (const Setting& st : settings) args.push_back(fmt::format("{}:{}", st.c, st.scaling));
  std::string out = RunPython(dir, R"(
import sys, numpy as np, scipy.sparse as sp
from sklearn.svm import LinearSVC
rows, cols, vals, y = [], [], [], []
for i, line in enumerate(open(sys.argv[1])):
    f = line.split()
    y.append(int(f[0]))
    for t in f[1:]:
        j, v = t.split(":")
        rows.append(i); cols.append(int(j)); vals.append(float(v))
X = sp.csr_matrix((vals, (rows, cols)), shape=(len(y), int(sys.argv[2])))
for setting in sys.argv[3:]:
    c, scaling = map(float, setting.split(":"))
    m = LinearSVC(C=c, intercept_scaling=scaling, tol=1e-10, max_iter=1000000).fit(X, y)
    print(" ".join(repr(float(v)) for v in list(m.coef_[0]) + [m.intercept_[0]]))
)",
                              args);
  std::vector<std::string> lines = testing::SplitLines(out);
  ASSERT_EQ(lines.size(), settings.size()) << out;
  for (size_t k = 0; k < settings.size(); ++k) {
    SvmOptions options;
    options.c = settings[k].c;
    options.intercept_scaling = settings[k].scaling;
    options.tol = 1e-10;
    options.max_iter = 1000000;
    BinarySvm svm = SolveL2LossSvm(x, y, options);
    ASSERT_TRUE(svm.converged);
    std::istringstream in(lines[k]);
    std::vector<double> expected;
    for (double v; in >> v;) expected.push_back(v);
    ASSERT_EQ(expected.size(), x.cols + 1u) << lines[k];
    double scale = 0;
    for (double v : expected) scale = std::max(scale, std::fabs(v));
    for (uint32_t j = 0; j < x.cols; ++j) {
      EXPECT_NEAR(svm.weights[j], expected[j], 1e-6 * scale) << "setting " << k << " j=" << j;
    }
    EXPECT_NEAR(svm.intercept, expected[x.cols], 1e-6 * scale) << "setting " << k;
  }
}

}  // namespace
}  // namespace sagaflow::text
