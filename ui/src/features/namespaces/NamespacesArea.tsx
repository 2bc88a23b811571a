import { areaById } from '../../app/areas';
import { NotBuiltYet } from '../../components/NotBuiltYet';

export function NamespacesArea() {
  return (
    <NotBuiltYet
      area={areaById('namespaces')}
      willDo="This area will list dispatch namespaces and their workers."
      runbookProcedures={['Managing Dispatch Namespaces']}
    />
  );
}
