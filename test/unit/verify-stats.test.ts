import test from 'ava';
import { adjustedResidual, chiSquareSurvival, chiSquareTest, gammaQ, lnGamma } from '../../src/verify/stats.ts';

const close = (a: number, b: number, rel = 1e-3) => Math.abs(a - b) <= rel * Math.max(Math.abs(b), 1e-12);

test('lnGamma matches factorials and Γ(1/2)', (t) => {
  t.true(close(lnGamma(5), Math.log(24), 1e-12));
  t.true(close(lnGamma(11), Math.log(3628800), 1e-12));
  t.true(close(lnGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-12));
});

test('gammaQ: Q(1, x) = e^-x on both branches', (t) => {
  for (const x of [0.1, 1, 1.9, 2.5, 10, 30]) t.true(close(gammaQ(1, x), Math.exp(-x), 1e-9), `x=${x}`);
  t.is(gammaQ(3, 0), 1);
  t.throws(() => gammaQ(0, 1));
});

test('chi-square survival matches the table (critical values)', (t) => {
  t.true(close(chiSquareSurvival(3.841, 1), 0.05, 2e-3));
  t.true(close(chiSquareSurvival(6.635, 1), 0.01, 2e-3));
  t.true(close(chiSquareSurvival(10.828, 1), 0.001, 2e-3));
  t.true(close(chiSquareSurvival(13.816, 2), 0.001, 2e-3));
  t.true(close(chiSquareSurvival(16.266, 3), 0.001, 2e-3));
  t.true(close(chiSquareSurvival(5.991, 2), 0.05, 2e-3));
  t.true(close(chiSquareSurvival(18.307, 10), 0.05, 2e-3));
});

test('chiSquareTest: a perfect rr split passes, 66/34 is rejected at 0.001, wrr 2:1 fits 67/33', (t) => {
  const even = chiSquareTest([50, 50], [0.5, 0.5]);
  t.is(even.statistic, 0);
  t.is(even.p, 1);
  t.is(even.df, 1);
  const skew = chiSquareTest([67, 33], [0.5, 0.5]);
  t.true(skew.p < 0.001, `p=${skew.p}`);
  const fine = chiSquareTest([58, 42], [0.5, 0.5]);
  t.true(fine.p > 0.05, `p=${fine.p}`);
  const wrr = chiSquareTest([67, 33], [2 / 3, 1 / 3]);
  t.true(wrr.p > 0.5, `p=${wrr.p}`);
  const wrrAsRr = chiSquareTest([67, 33], [2, 1]); // shares need not be normalised
  t.true(close(wrrAsRr.statistic, wrr.statistic, 1e-9));
  t.is(chiSquareTest([30], [1]).p, 1);
  t.throws(() => chiSquareTest([1, 2], [1, 0]));
});

test('adjusted residual flags a backend far off its share', (t) => {
  t.true(adjustedResidual(100, 100, 0.5) > 3.29);
  t.true(Math.abs(adjustedResidual(52, 100, 0.5)) < 1);
  t.is(adjustedResidual(3, 3, 1), 0);
});
